package main

func load() error {
	cfg, err := readConfig()
	db, err := open(cfg)
	if err != nil {
		return err
	}
	return db.Ping()
}
