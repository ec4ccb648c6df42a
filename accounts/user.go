package accounts

import (
	"time"

	"chat/store"
)

// User is a signed-in user as the loop sees it: what the store holds, minus
// the password hash. The cache shares one *User per id, so a Refresh is seen
// at once by every connection of that user. Loop-owned.
type User struct {
	ID             int64
	Name           string
	Role           store.Role
	Guest          bool
	SessionVersion int64
	MutedUntil     time.Time // zero: not muted
	MuteReason     string
	BannedUntil    time.Time // zero: not banned
	BanReason      string
}

func userFromStore(u store.User) User {
	return User{
		ID: u.ID, Name: u.Name, Role: u.Role, Guest: u.Guest, SessionVersion: u.SessionVersion,
		MutedUntil: u.MutedUntil, MuteReason: u.MuteReason, BannedUntil: u.BannedUntil, BanReason: u.BanReason,
	}
}

// Moderator reports whether the user may moderate (moderators and admins).
func (u *User) Moderator() bool { return u.Role == store.RoleModerator || u.Role == store.RoleAdmin }

// BannedAt and MutedAt report whether the ban or mute is in force at t.
func (u *User) BannedAt(t time.Time) bool { return t.Before(u.BannedUntil) }
func (u *User) MutedAt(t time.Time) bool  { return t.Before(u.MutedUntil) }

// Wire is the user as the protocol shows it (docs/protocol.md).
func (u *User) Wire() WireUser {
	return WireUser{ID: u.ID, Name: u.Name, Guest: u.Guest, Role: string(u.Role)}
}

// WireUser is the JSON user object of the protocol.
type WireUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Guest bool   `json:"guest"`
	Role  string `json:"role"`
}

// ValidNickname reports whether name may be a guest's (and, later, a
// registered user's) name: 1 to 32 ASCII letters, digits, '_', '-' or '.'.
// ASCII only, so two names cannot look alike in different scripts.
func ValidNickname(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for _, c := range []byte(name) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}

// MaxNameLen bounds user names.
const MaxNameLen = 32
