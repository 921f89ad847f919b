package stack

type Stack struct {
	items []int
}

func New() *Stack {
	return &Stack{}
}

func (s *Stack) Push(v int) {
	s.items = append(s.items, v)
}

func (s *Stack) Pop() int {
	if len(s.items) == 0 {
		return 0
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v
}
