package web_test

import (
	"errors"
	"fmt"
	"time"

	"chat/framework/web"
)

func ExampleCheckXSRF() {
	// Rendering a page: reuse the token from the request's _xsrf cookie,
	// or make one and set the cookie.
	token, issued, fresh := web.XSRFFromCookie("", time.Now())
	cookieValue := web.EncodeXSRF(token, issued)
	if fresh {
		fmt.Println("Set-Cookie:", web.NewXSRFCookie(cookieValue, true).Name)
	}
	formValue := web.EncodeXSRF(token, issued) // masked afresh for each form
	fmt.Println(formValue != cookieValue)

	// Handling the POST that form submits.
	if web.XSRFCheckRequired("POST") {
		fmt.Println(web.CheckXSRF(cookieValue, formValue))
	}

	// A cross-site forgery has the cookie but cannot know the token.
	forged := web.EncodeXSRF(web.NewXSRFToken(), issued)
	err := web.CheckXSRF(cookieValue, forged)
	fmt.Println(errors.Is(err, web.ErrXSRFMismatch), err)
	// Output:
	// Set-Cookie: _xsrf
	// true
	// <nil>
	// true web: XSRF cookie does not match POST argument
}
