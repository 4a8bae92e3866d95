// Package display owns the rules of text and links shown to other users:
// names (a nickname, and every later displayed name) and avatar links.
//
// A name is shown on other people's boards, so it must look like what it
// is: characters a renderer may draw as nothing (zero-width spaces, bidi
// controls, Hangul fillers, the braille blank) are refused, never
// stripped, so "alice\u200b" cannot pass for "alice" and "sim\u200brisky"
// cannot slip past a word filter. Emoji sequences (ZWJ families, flags,
// keycaps, skin tones, presentation selectors) stay whole.
//
// An avatar link is loaded by other people's phones, so it must name a
// public web host: https, a DNS name, no address of any kind, no
// credentials, nothing that could break out of an attribute.
//
// Every refusal is an *Error whose Err is one of the Err values below.
package display

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The reasons a value is refused; an *Error's Err is one of them, so
// errors.Is(err, ErrInvisible) works on whatever wraps it. The texts are
// written for the client developer and never quote the value.
var (
	ErrEmpty       = errors.New("empty after trimming spaces")
	ErrTooLong     = errors.New("too many characters")
	ErrInvalidUTF8 = errors.New("not valid UTF-8")
	ErrControl     = errors.New("control character")
	ErrInvisible   = errors.New("invisible, format or direction-changing character")

	ErrURLTooLong     = errors.New("too many bytes")
	ErrUnsafeChar     = errors.New("space, quote, angle bracket or backslash")
	ErrNotHTTPS       = errors.New("does not start with https://")
	ErrUserinfo       = errors.New("holds a user name or password (@) before the host")
	ErrPort           = errors.New("has a port other than 443")
	ErrIPLiteral      = errors.New("names an IP address instead of a host name")
	ErrNonASCIIHost   = errors.New("host name is not ASCII (send it in its xn-- form)")
	ErrHostName       = errors.New("host is not a DNS name with at least one dot")
	ErrLocalHost      = errors.New("host is a local name (localhost, .local, .internal, .arpa)")
	ErrHostNotAllowed = errors.New("host is not one of the allowed avatar hosts")
	ErrMalformedURL   = errors.New("is not a well-formed URL")
)

// Error is a refusal: why (Err), and where or by how much.
type Error struct {
	Err error
	// Pos is the 1-based position, in code points, of the refused
	// character (in a name: after normalising and trimming); 0 when the
	// refusal is not about one character.
	Pos  int
	Rune rune // the refused character, when Pos > 0
	// Len and Max are the length found and allowed, for ErrTooLong (code
	// points) and ErrURLTooLong (bytes).
	Len, Max int
}

func (e *Error) Error() string {
	switch {
	case e.Pos > 0:
		return fmt.Sprintf("%v U+%04X at position %d", e.Err, e.Rune, e.Pos)
	case e.Max > 0:
		return fmt.Sprintf("%v: %d, at most %d", e.Err, e.Len, e.Max)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Name returns s as it is to be stored, shown and given to a content check:
// normalised to NFC, trimmed of Unicode white space, checked, and at most
// maxLen code points long. It refuses, with an *Error, an empty name,
// invalid UTF-8, a control character, any Default_Ignorable_Code_Point
// outside an emoji sequence, U+2028, U+2029 and U+2800.
func Name(s string, maxLen int) (string, error) {
	if !utf8.ValidString(s) {
		return "", &Error{Err: ErrInvalidUTF8}
	}
	s = strings.TrimSpace(norm.NFC.String(s))
	if s == "" {
		return "", &Error{Err: ErrEmpty}
	}
	rs := []rune(s)
	if i, err := checkRunes(rs); err != nil {
		return "", &Error{Err: err, Pos: i + 1, Rune: rs[i]}
	}
	if len(rs) > maxLen {
		return "", &Error{Err: ErrTooLong, Len: len(rs), Max: maxLen}
	}
	return s, nil
}
