package store

import (
	"context"
	"errors"
	"testing"
)

// SetPassword replaces the hash and raises the session version in one
// write; guests, empty hashes and unknown users are refused and change
// nothing.
func TestSetPassword(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	guest, err := s.CreateGuest(ctx, "visitor")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int64{2, 3} {
		hash := []byte{'h', byte('0' + i)}
		v, err := s.SetPassword(ctx, f.user.ID, hash)
		if err != nil || v != want {
			t.Fatalf("SetPassword #%d = %d, %v; want %d", i, v, err, want)
		}
		u, err := s.UserByID(ctx, f.user.ID)
		if err != nil || string(u.PasswordHash) != string(hash) || u.SessionVersion != want {
			t.Fatalf("read back %+v, %v; want hash %q version %d", u, err, hash, want)
		}
	}
	for _, c := range []struct {
		name string
		id   int64
		hash []byte
		want error
	}{
		{"empty hash", f.user.ID, nil, ErrInvalid},
		{"guest", guest.ID, []byte("h"), ErrInvalid},
		{"unknown user", 999, []byte("h"), ErrNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v, err := s.SetPassword(ctx, c.id, c.hash); !errors.Is(err, c.want) || v != 0 {
				t.Fatalf("SetPassword = %d, %v; want %v", v, err, c.want)
			}
		})
	}
	if u, _ := s.UserByID(ctx, f.user.ID); u.SessionVersion != 3 || string(u.PasswordHash) != "h1" {
		t.Errorf("refused calls changed the user: %+v", u)
	}
	if g, _ := s.UserByID(ctx, guest.ID); g.SessionVersion != 1 || len(g.PasswordHash) != 0 {
		t.Errorf("the guest changed: %+v", g)
	}
	if m, _ := s.UserByID(ctx, f.mod.ID); m.SessionVersion != 1 || string(m.PasswordHash) != "hash" {
		t.Errorf("another user changed: %+v", m)
	}
}
