package websocket

import (
	"errors"
	"strings"
	"testing"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatal(got)
	}
	if !ValidKey(NewKey()) {
		t.Fatal("NewKey is not a valid key")
	}
}

func TestCheckUpgrade(t *testing.T) {
	good := UpgradeRequest{Method: "GET", Proto: "HTTP/1.1", Connection: "keep-alive, Upgrade", Upgrade: "WebSocket", Version: "13", Key: "dGhlIHNhbXBsZSBub25jZQ=="}
	tests := []struct {
		name   string
		edit   func(*UpgradeRequest)
		status int
	}{
		{"valid", func(*UpgradeRequest) {}, 0},
		{"http_2_0_proto_string_accepted", func(r *UpgradeRequest) { r.Proto = "HTTP/1.2" }, 0},
		{"post_is_405", func(r *UpgradeRequest) { r.Method = "POST" }, 405},
		{"http_1_0_is_400", func(r *UpgradeRequest) { r.Proto = "HTTP/1.0" }, 400},
		{"connection_without_upgrade_token_is_400", func(r *UpgradeRequest) { r.Connection = "keep-alive, upgraded" }, 400},
		{"upgrade_to_other_protocol_is_400", func(r *UpgradeRequest) { r.Upgrade = "h2c" }, 400},
		{"version_8_is_426", func(r *UpgradeRequest) { r.Version = "8" }, 426},
		{"missing_version_is_426", func(r *UpgradeRequest) { r.Version = "" }, 426},
		{"key_of_15_bytes_is_400", func(r *UpgradeRequest) { r.Key = "AAAAAAAAAAAAAAAAAAAA" }, 400},
		{"key_not_base64_is_400", func(r *UpgradeRequest) { r.Key = "!!!!!!!!!!!!!!!!!!!!!!==" }, 400},
		{"missing_key_is_400", func(r *UpgradeRequest) { r.Key = "" }, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.edit(&r)
			err := CheckUpgrade(r)
			var he *HandshakeError
			switch {
			case tc.status == 0 && err != nil:
				t.Fatal(err)
			case tc.status != 0 && (!errors.As(err, &he) || he.Status != tc.status):
				t.Fatalf("err %v, want status %d", err, tc.status)
			}
		})
	}
}

func TestChooseSubprotocol(t *testing.T) {
	tests := []struct {
		offered, supported []string
		want               string
	}{
		{[]string{"chat.v1, chat.v2"}, []string{"chat.v2", "chat.v1"}, "chat.v2"},
		{[]string{"chat.v1", "chat.v2"}, []string{"chat.v2"}, "chat.v2"},
		{[]string{"Chat.v2"}, []string{"chat.v2"}, ""},
		{nil, []string{"chat.v2"}, ""},
		{[]string{"chat.v1"}, nil, ""},
	}
	for _, tc := range tests {
		if got := ChooseSubprotocol(tc.offered, tc.supported); got != tc.want {
			t.Errorf("ChooseSubprotocol(%q, %q) = %q, want %q", tc.offered, tc.supported, got, tc.want)
		}
	}
}

func TestCheckOrigin(t *testing.T) {
	allowed := []string{"https://app.example:8443", "http://localhost:3000"}
	tests := []struct {
		name, origin, host string
		secure             bool
		want               bool
	}{
		{"no_origin_is_a_non_browser_client", "", "chat.example", false, true},
		{"same_origin", "http://chat.example", "chat.example", false, true},
		{"same_origin_default_port_folded", "https://chat.example", "chat.example:443", true, true},
		{"same_origin_explicit_port_folded", "http://chat.example:80", "chat.example", false, true},
		{"host_case_insensitive", "http://CHAT.example", "chat.EXAMPLE", false, true},
		{"scheme_mismatch", "http://chat.example", "chat.example", true, false},
		{"port_mismatch", "http://chat.example:8080", "chat.example", false, false},
		{"other_host", "http://evil.example", "chat.example", false, false},
		{"suffix_attack", "http://chat.example.evil.example", "chat.example", false, false},
		{"null_origin", "null", "chat.example", false, false},
		{"allow_listed", "https://app.example:8443", "chat.example", true, true},
		{"allow_listed_with_trailing_slash", "http://localhost:3000/", "chat.example", false, true},
		{"allow_list_port_must_match", "https://app.example", "chat.example", true, false},
		{"ipv6", "http://[::1]:8000", "[::1]:8000", false, true},
		{"non_http_scheme", "file://chat.example", "chat.example", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckOrigin(tc.origin, tc.host, tc.secure, allowed); got != tc.want {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestAppendUpgradeResponse(t *testing.T) {
	got := string(AppendUpgradeResponse(nil, "dGhlIHNhbXBsZSBub25jZQ==", "chat.v1", "permessage-deflate"))
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat.v1\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
	if got != want {
		t.Fatalf("%q", got)
	}
	if strings.Contains(string(AppendUpgradeResponse(nil, "k", "", "")), "Sec-WebSocket-Protocol") {
		t.Fatal("empty subprotocol must be omitted")
	}
}
