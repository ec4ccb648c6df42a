package accounts

import (
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// DefaultBcryptCost is the cost of password hashes when Config.BcryptCost
// is zero: about a quarter of a second of one core per hash or compare on
// a current machine, which is what makes a stolen database slow to crack
// and why bcrypt never runs on the loop.
const DefaultBcryptCost = 12

// Password rules. bcrypt reads at most 72 bytes, so a longer password
// would be silently cut; it is refused instead.
const (
	MinPasswordChars = 10
	MaxPasswordBytes = 72
)

// DefaultNewUsersPerMinute is the recommended Config.NewUsersPerMinute.
const DefaultNewUsersPerMinute = 10

// errNoPasswordExecutor is the error of a password route on a server
// whose Config.Passwords was not set.
var errNoPasswordExecutor = errors.New("accounts: Config.Passwords is not set, so password sign-in cannot run")

// NewPasswordExecutor makes the executor Config.Passwords wants: half the
// processors as workers (at least one), so that bcrypt never holds every
// processor and the loop always finds one free, and a queue of eight jobs
// a worker, about two seconds of waiting at cost 12; past that, sign-ins
// are refused with 503 rather than queued. It is a background executor:
// its threads run at a lower priority than the loop's (see
// ioloop.Loop.NewBackgroundExecutor). Safe from any goroutine.
func NewPasswordExecutor(loop *ioloop.Loop) *ioloop.Executor {
	return loop.NewBackgroundExecutor("passwords", passwordWorkers(), 8*passwordWorkers())
}

// passwordWorkers is half the processors, at least one.
func passwordWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// HashPassword returns the bcrypt hash of password at cost (zero:
// DefaultBcryptCost), after checking the password rules (see
// PasswordProblem; name is the user's name). It blocks for as long as
// bcrypt takes: call it on an executor, or where no loop runs (cmd/chat
// creating the first admin). Safe from any goroutine.
func HashPassword(name, password string, cost int) ([]byte, error) {
	if problem := PasswordProblem(name, password); problem != "" {
		return nil, errors.New(problem)
	}
	if cost == 0 {
		cost = DefaultBcryptCost
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// PasswordProblem says in words what is wrong with password as the
// password of the user called name, or "" when nothing is: at least
// MinPasswordChars characters, at most MaxPasswordBytes bytes, and not the
// name itself in any letter case.
func PasswordProblem(name, password string) string {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordChars:
		return fmt.Sprintf("A password has at least %d characters.", MinPasswordChars)
	case len(password) > MaxPasswordBytes:
		return fmt.Sprintf("A password has at most %d bytes (%d letters without accents).", MaxPasswordBytes, MaxPasswordBytes)
	case name != "" && strings.EqualFold(password, name):
		return "Your password cannot be your name."
	}
	return ""
}

// dummyHash returns a function giving a hash, at cost, of a random
// password nobody knows: a sign-in for a name that does not exist (or has
// no password) is compared with it, so that it takes as long as one for a
// real user and the answer's timing does not tell which names exist. The
// hash is made once, on first use; the function is safe from any
// goroutine and blocks while the hash is made.
func dummyHash(cost int) func() []byte {
	return sync.OnceValue(func() []byte {
		secret := make([]byte, 32)
		rand.Read(secret)
		// Hex keeps it within bcrypt's 72 bytes and free of NULs.
		hash, err := bcrypt.GenerateFromPassword(fmt.Appendf(nil, "%x", secret), cost)
		if err != nil {
			panic(fmt.Sprintf("accounts: dummy bcrypt hash at cost %d: %v", cost, err))
		}
		return hash
	})
}

// warmDummyHash makes the dummy hash on the password executor as soon as
// the loop runs, so that the first sign-in for an unknown name does not
// pay for it (and take twice as long as any other). Safe before the loop
// runs: it only queues a callback.
func (s *Sessions) warmDummyHash() {
	if s.cfg.Passwords == nil {
		return
	}
	dummy := s.dummy
	s.cfg.Loop.AddCallback(func() {
		// A full queue is no harm: the first sign-in makes it then.
		ioloop.RunInExecutor(s.cfg.Passwords, func() (struct{}, error) {
			dummy()
			return struct{}{}, nil
		})
	})
}

// checkPassword compares password with hash on the password executor; a
// nil or unreadable hash (an unknown name, a guest) is compared with the
// dummy hash and never matches. The future resolves true on a match and
// fails only with the executor's errors (ErrQueueFull). Loop-only.
func (s *Sessions) checkPassword(hash []byte, password string) *concurrent.Future[bool] {
	if s.cfg.Passwords == nil {
		return concurrent.Failed[bool](errNoPasswordExecutor)
	}
	dummy := s.dummy
	return ioloop.RunInExecutor(s.cfg.Passwords, func() (bool, error) {
		return comparePassword(hash, password, dummy), nil
	})
}

// comparePassword reports whether password matches hash, taking as long
// when it cannot: a password bcrypt could not have hashed never matches
// but is still compared (its first 72 bytes), and a missing or unreadable
// hash (an unknown name, a guest, a row made by hand) is replaced by the
// dummy hash. It blocks for the whole bcrypt run.
func comparePassword(hash []byte, password string, dummy func() []byte) bool {
	tooLong := len(password) > MaxPasswordBytes
	if tooLong {
		password = password[:MaxPasswordBytes]
	}
	if _, err := bcrypt.Cost(hash); len(hash) == 0 || err != nil {
		bcrypt.CompareHashAndPassword(dummy(), []byte(password))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil && !tooLong
}

// hashPassword hashes password at the configured cost on the password
// executor. The password rules must have been checked. Loop-only.
func (s *Sessions) hashPassword(password string) *concurrent.Future[[]byte] {
	if s.cfg.Passwords == nil {
		return concurrent.Failed[[]byte](errNoPasswordExecutor)
	}
	cost := s.cfg.BcryptCost
	return ioloop.RunInExecutor(s.cfg.Passwords, func() ([]byte, error) {
		return bcrypt.GenerateFromPassword([]byte(password), cost)
	})
}
