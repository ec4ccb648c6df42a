package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScanEvent(t *testing.T) {
	cases := []struct {
		name  string
		frame string
		want  event
		bad   bool
	}{
		{name: "message from the protocol's example",
			frame: `{"type":"message","id":1042,"msg":977,"room":"lobby","user":"ada","guest":false,"body":"hello","ts":"2026-12-03T09:00:00.123Z","key":"k-5f1c"}`,
			want:  event{typ: b("message"), id: 1042, msg: 977, room: b("lobby"), body: b("hello"), key: b("k-5f1c")}},
		{name: "hello skips the nested user, room and online list",
			frame: `{"type":"hello","user":{"id":7,"name":"ada","room":"x"},"room":{"name":"lobby","last_id":5},"last_id":1045,"online":[{"name":"ada","guest":false}],"online_count":1}`,
			want:  event{typ: b("hello"), lastID: 1045}},
		{name: "ack",
			frame: `{"type":"ack","key":"k-5f1c","id":1042,"msg":977,"ts":"2026-12-03T09:00:00.123Z"}`,
			want:  event{typ: b("ack"), key: b("k-5f1c"), id: 1042, msg: 977}},
		{name: "error with retry_after",
			frame: `{"type":"error","code":"rate_limited","message":"Too many messages: wait 2 s.","key":"k-5f1c","retry_after":2}`,
			want:  event{typ: b("error"), code: b("rate_limited"), key: b("k-5f1c"), retryAfter: 2}},
		{name: "long-poll answer: events skipped, cursor and more read",
			frame: `{"type":"events","events":[{"type":"message","id":1,"body":"a]}"}],"last_id":1042,"more":true}`,
			want:  event{typ: b("events"), lastID: 1042, more: true}},
		{name: "white space everywhere",
			frame: " \n{ \"type\" : \"reset\" ,\t\"last_id\" :\r 9 } \n",
			want:  event{typ: b("reset"), lastID: 9}},
		{name: "escaped quote inside a skipped string",
			frame: `{"user":"a\"b","type":"typing"}`,
			want:  event{typ: b("typing")}},
		{name: "escapes are kept raw",
			frame: `{"body":"a\\n\"b"}`,
			want:  event{body: b(`a\\n\"b`)}},
		{name: "later duplicate wins",
			frame: `{"type":"a","type":"b"}`,
			want:  event{typ: b("b")}},
		{name: "id of the wrong kind is left 0",
			frame: `{"id":"12","last_id":[1]}`,
			want:  event{}},
		{name: "empty object", frame: `{}`, want: event{}},
		{name: "not an object", frame: `[1]`, bad: true},
		{name: "truncated", frame: `{"type":"mess`, bad: true},
		{name: "missing colon", frame: `{"type" "x"}`, bad: true},
		{name: "trailing garbage", frame: `{"type":"x"} x`, bad: true},
		{name: "unterminated object", frame: `{"events":[{"id":1}`, bad: true},
		{name: "control character in a string", frame: "{\"type\":\"a\x01\"}", bad: true},
		{name: "empty", frame: ``, bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ev event
			err := scanEvent([]byte(tc.frame), &ev)
			if tc.bad {
				if err == nil {
					t.Fatalf("scanEvent(%q) = nil error, want one", tc.frame)
				}
				return
			}
			if err != nil {
				t.Fatalf("scanEvent(%q): %v", tc.frame, err)
			}
			if got, want := describe(ev), describe(tc.want); got != want {
				t.Errorf("scanEvent(%q)\n got %s\nwant %s", tc.frame, got, want)
			}
		})
	}
}

func b(s string) []byte { return []byte(s) }

func describe(ev event) string {
	return strings.Join([]string{"type=" + string(ev.typ), "room=" + string(ev.room), "key=" + string(ev.key),
		"body=" + string(ev.body), "code=" + string(ev.code), "id=" + strconv.FormatInt(ev.id, 10),
		"msg=" + strconv.FormatInt(ev.msg, 10), "last_id=" + strconv.FormatInt(ev.lastID, 10),
		"retry_after=" + strconv.FormatFloat(ev.retryAfter, 'g', -1, 64), "more=" + strconv.FormatBool(ev.more)}, " ")
}

func TestScanEventAllocatesNothing(t *testing.T) {
	frame := []byte(`{"type":"message","id":1042,"msg":977,"room":"lobby","user":"ada","guest":false,"body":"hello","ts":"2026-12-03T09:00:00.123Z","key":"k-5f1c"}`)
	var ev event
	if n := testing.AllocsPerRun(100, func() { scanEvent(frame, &ev) }); n != 0 {
		t.Errorf("scanEvent allocates %.0f times per frame, want 0", n)
	}
}

// FuzzScanEvent checks the scanner against encoding/json: every JSON
// object scans without error, and each field it reads agrees with the
// decoded value wherever the raw text is the text (no escapes, valid UTF-8:
// encoding/json replaces invalid bytes, the server never sends them).
func FuzzScanEvent(f *testing.F) {
	for _, s := range []string{
		`{"type":"message","id":1042,"room":"lobby","body":"hello","key":"k"}`,
		`{"type":"hello","user":{"id":7},"room":{"name":"x"},"last_id":3,"online":[]}`,
		`{"type":"events","events":[{"id":1}],"last_id":1,"more":false}`,
		`{"type":"error","code":"busy","retry_after":1.5}`,
		`{"a":"\"}","type":"x"}`, `[]`, `{`, `{"id":1e3}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev event
		err := scanEvent(data, &ev) // must not panic on anything
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil || obj == nil {
			return
		}
		if err != nil {
			t.Fatalf("scanEvent(%q): %v, but it is a JSON object", data, err)
		}
		for name, got := range map[string][]byte{"type": ev.typ, "room": ev.room, "key": ev.key, "body": ev.body, "code": ev.code} {
			raw, ok := obj[name]
			var want string
			if !ok || json.Unmarshal(raw, &want) != nil || strings.ContainsRune(string(raw), '\\') || !utf8.Valid(raw) {
				continue
			}
			if string(got) != want {
				t.Fatalf("%s: scanned %q, encoding/json %q (frame %q)", name, got, want, data)
			}
		}
		for name, got := range map[string]int64{"id": ev.id, "msg": ev.msg, "last_id": ev.lastID} {
			var want int64
			if raw, ok := obj[name]; ok && json.Unmarshal(raw, &want) == nil && got != want {
				t.Fatalf("%s: scanned %d, encoding/json %d (frame %q)", name, got, want, data)
			}
		}
	})
}

func TestKeys(t *testing.T) {
	key := appendKey(nil, "r7.", 1234, 56)
	if string(key) != "r7.1234.56" {
		t.Fatalf("appendKey = %q", key)
	}
	cases := []struct {
		key         string
		member, seq int
		ok          bool
	}{
		{"r7.1234.56", 1234, 56, true},
		{"r7.0.0", 0, 0, true},
		{"r8.1234.56", 0, 0, false},
		{"r7.1234", 0, 0, false},
		{"r7.1234.", 0, 0, false},
		{"r7..5", 0, 0, false},
		{"r7.1.2x", 0, 0, false},
		{"r7.", 0, 0, false},
		{"r7.1234567890.1", 0, 0, false},
	}
	for _, tc := range cases {
		m, s, ok := parseKey([]byte(tc.key), "r7.")
		if m != tc.member || s != tc.seq || ok != tc.ok {
			t.Errorf("parseKey(%q) = %d, %d, %v; want %d, %d, %v", tc.key, m, s, ok, tc.member, tc.seq, tc.ok)
		}
	}
}

func TestSendFrameIsJSON(t *testing.T) {
	var v struct{ Type, Body, Key string }
	if err := json.Unmarshal(sendFrame(b("tok-1"), b("k.1.2")), &v); err != nil || v.Type != "send" || v.Body != "tok-1" || v.Key != "k.1.2" {
		t.Fatalf("sendFrame decodes to %+v, %v", v, err)
	}
}
