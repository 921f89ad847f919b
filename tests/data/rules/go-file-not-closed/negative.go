package main

import "os"

func size(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func open(path string) (*os.File, error) {
	f, err := os.Open(path)
	return f, err
}
