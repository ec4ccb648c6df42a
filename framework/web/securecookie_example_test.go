package web_test

import (
	"errors"
	"fmt"
	"time"

	"chat/framework/web"
)

func ExampleCookieCodec() {
	// In production the keys come from configuration, newest first; here
	// they are generated.
	current, previous := web.GenerateKeys(), web.GenerateKeys()
	codec, err := web.NewCookieCodec(web.CookieConfig{
		Keys:   []web.KeyPair{current, previous},
		MaxAge: 7 * 24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}

	cookie, err := codec.NewCookie("user", []byte("alice"), true)
	if err != nil {
		panic(err)
	}
	fmt.Println(cookie.HttpOnly, cookie.Secure, cookie.SameSite, cookie.MaxAge)

	user, err := codec.DecodeString("user", cookie.Value)
	fmt.Println(user, err)

	_, err = codec.DecodeString("user", cookie.Value+"x")
	fmt.Println(errors.Is(err, web.ErrCookieInvalid))

	_, err = codec.DecodeString("user", "")
	fmt.Println(errors.Is(err, web.ErrCookieMissing))
	// Output:
	// true true 2 604800
	// alice <nil>
	// true
	// true
}
