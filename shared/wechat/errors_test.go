package wechat

import (
	"errors"
	"testing"
)

// ErrRefused is the class of last resort: every errcode WeChat answers, and
// nothing that came without one.
func TestErrRefusedMatchesEveryErrcodeAndNothingElse(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"a code no class names", &Error{Op: "getopendata", Code: 48001}, true},
		{"a code another class names", &Error{Op: "jscode2session", Code: 40029}, true},
		{"busy", &Error{Op: "stable_token", Code: -1}, true},
		{"unreachable", &Error{Op: "stable_token", kind: unavailable}, false},
		{"an incomplete answer", &Error{Op: "jscode2session", kind: badAnswer}, false},
		{"not a WeChat error", errors.New("other"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, ErrRefused); got != tt.want {
				t.Errorf("errors.Is(%v, ErrRefused) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
	if errors.Is(&Error{Code: 48001}, ErrBusy) {
		t.Error("48001 matched ErrBusy")
	}
}
