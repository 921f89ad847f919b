package svc

import "os"

func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func FirstByte(path string) byte {
	f, err := os.Open(path)
	buf := make([]byte, 1)
	f.Read(buf)
	return buf[0]
}
