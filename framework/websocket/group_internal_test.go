package websocket

import (
	"slices"
	"testing"
)

// TestGroupMembership drives Add and Remove through sequences that move
// the last member into a removed one's place, and checks the members and
// the index agree after every step.
func TestGroupMembership(t *testing.T) {
	conns := make([]*Conn, 5)
	for i := range conns {
		conns[i] = &Conn{}
	}
	type step struct {
		add  bool
		conn int
	}
	add := func(i int) step { return step{true, i} }
	remove := func(i int) step { return step{false, i} }
	cases := []struct {
		name  string
		steps []step
		want  []int // members afterwards, in any order
	}{
		{"empty", nil, nil},
		{"add twice counts once", []step{add(0), add(0)}, []int{0}},
		{"remove the only member", []step{add(0), remove(0)}, nil},
		{"remove the first: last takes its place", []step{add(0), add(1), add(2), remove(0)}, []int{1, 2}},
		{"remove the last", []step{add(0), add(1), add(2), remove(2)}, []int{0, 1}},
		{"remove a non-member", []step{add(0), remove(3)}, []int{0}},
		{"remove twice", []step{add(0), add(1), remove(0), remove(0)}, []int{1}},
		{"re-add after remove", []step{add(0), add(1), remove(0), add(0)}, []int{0, 1}},
		{"drain in mixed order", []step{add(0), add(1), add(2), add(3), add(4), remove(2), remove(4), remove(0), remove(3), remove(1)}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var g Group
			for _, s := range tc.steps {
				if s.add {
					g.Add(conns[s.conn])
				} else {
					g.Remove(conns[s.conn])
				}
				for i, c := range g.members {
					if g.index[c] != i {
						t.Fatalf("member %d is indexed at %d", i, g.index[c])
					}
				}
				if len(g.index) != len(g.members) {
					t.Fatalf("%d indexed, %d members", len(g.index), len(g.members))
				}
			}
			var got []int
			for c := range g.All() {
				got = append(got, slices.Index(conns, c))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) || g.Len() != len(tc.want) {
				t.Fatalf("members %v (Len %d), want %v", got, g.Len(), tc.want)
			}
			for i, c := range conns {
				if g.Contains(c) != slices.Contains(tc.want, i) {
					t.Fatalf("Contains(conn %d) = %v", i, g.Contains(c))
				}
			}
			if n := cap(g.members); n > len(g.members) && g.members[:n][len(g.members)] != nil {
				t.Fatal("a removed member is still referenced from the slice")
			}
		})
	}
}
