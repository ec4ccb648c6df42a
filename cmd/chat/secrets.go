package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"chat/framework/web"
)

// secrets are generated on first start and kept in the data directory, so
// sessions survive restarts. Rotating keys: add a new pair at the front of
// cookie_keys; the newest signs, all still verify.
type secrets struct {
	CookieKeys []web.KeyPair `json:"cookie_keys"`
}

const secretsFile = "secrets.json"

// loadOrCreateSecrets reads dataDir/secrets.json, creating it (mode 0600)
// with fresh random keys when it does not exist.
func loadOrCreateSecrets(dataDir string) (secrets, error) {
	path := filepath.Join(dataDir, secretsFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		s := secrets{CookieKeys: []web.KeyPair{web.GenerateKeys()}}
		raw, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return s, err
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			return s, fmt.Errorf("write %s: %w", path, err)
		}
		return s, nil
	}
	if err != nil {
		return secrets{}, fmt.Errorf("read %s: %w", path, err)
	}
	var s secrets
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("parse %s: %w", path, err)
	}
	if len(s.CookieKeys) == 0 {
		return s, fmt.Errorf("%s has no cookie_keys", path)
	}
	return s, nil
}
