package main

func load() error {
	cfg, err := readConfig()
	if err != nil {
		return err
	}
	db, err := open(cfg)
	if err != nil {
		return err
	}
	err = wrap(err)
	return db.Ping()
}
