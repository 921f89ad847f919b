package load

import "os"

func Load(path string) []byte {
	f, _ := os.Open(path)
	buf := make([]byte, 512)
	n, _ := f.Read(buf)
	return buf[:n]
}
