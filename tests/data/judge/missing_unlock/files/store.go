package store

func (s *Store) Get(key string) string {
	s.mu.Lock()
	v := s.items[key]
	return v
}
