package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"

	"chat/accounts"
	"chat/store"
)

// ensureAdmin creates the first administrator when the database has no
// users yet and prints its credentials once: they are not stored anywhere
// in clear (cost is the bcrypt cost, 0: the default). It runs at startup, before the loop, so blocking is fine.
func ensureAdmin(ctx context.Context, st *store.Store, cost int, out io.Writer) error {
	users, err := st.ListUsers(ctx, 0, 1)
	if err != nil {
		return fmt.Errorf("look for users: %w", err)
	}
	if len(users) > 0 {
		return nil
	}
	password := rand.Text() // 26 characters of base32 from crypto/rand
	hash, err := accounts.HashPassword("admin", password, cost)
	if err != nil {
		return fmt.Errorf("hash admin password: %w", err)
	}
	if _, err := st.CreateUser(ctx, "admin", hash, store.RoleAdmin); err != nil {
		return fmt.Errorf("create admin: %w", err)
	}
	fmt.Fprintf(out, "\n  First start: created the administrator account.\n    user:     admin\n    password: %s\n  It is shown only now; keep it safe.\n\n", password)
	return nil
}

// ensureLobby creates the room everyone starts in, "lobby", when the
// database has no rooms yet, owned by the first administrator.
func ensureLobby(ctx context.Context, st *store.Store) error {
	rooms, err := st.ListRooms(ctx, 0, 1, true)
	if err != nil {
		return fmt.Errorf("look for rooms: %w", err)
	}
	if len(rooms) > 0 {
		return nil
	}
	admin, err := st.UserByName(ctx, "admin")
	if err != nil {
		return fmt.Errorf("find the administrator: %w", err)
	}
	_, err = st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", Topic: "Say hello", CreatorID: admin.ID})
	if err != nil {
		return fmt.Errorf("create the lobby: %w", err)
	}
	return nil
}

// setRole gives the user named in spec ("name=role", role one of user,
// moderator, admin) that role, recorded in the audit log as done by the
// first administrator, and reports it on out. It is the command line's
// way to make a moderator before the admin dashboard exists to do it;
// a server already running sees the new role at the user's next sign-in
// or after a restart (it caches users).
func setRole(ctx context.Context, st *store.Store, spec string, out io.Writer) error {
	name, role, ok := strings.Cut(spec, "=")
	if !ok || name == "" {
		return fmt.Errorf("-set-role %q: want name=role, role one of user, moderator, admin", spec)
	}
	user, err := st.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("-set-role: find %q: %w", name, err)
	}
	if user.Guest {
		return fmt.Errorf("-set-role: %q is a guest; only registered users take roles", name)
	}
	admin, err := st.UserByName(ctx, "admin")
	if err != nil {
		return fmt.Errorf("-set-role: find the administrator: %w", err)
	}
	if err := st.SetRole(ctx, admin.ID, user.ID, store.Role(role)); err != nil {
		return fmt.Errorf("-set-role %s: %w", spec, err)
	}
	fmt.Fprintf(out, "chat: %s is now %s\n", user.Name, role)
	return nil
}
