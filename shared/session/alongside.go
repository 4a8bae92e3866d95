package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
)

// A read that has no side effects need not wait for the revocation read
// before its own first read: Start verifies the token, starts the
// revocation read and returns at once, and the two reads take one round
// trip. What the read found is answered only once Authorized says the
// account stands; anything the use case would write on the way (a memberId
// made on first use) waits for Authorized first.

type ctxKey struct{}

// started is a caller whose revocation read is under way.
type started struct {
	caller Caller
	done   chan struct{}
	err    error
}

// Start verifies token (no read) and starts the revocation read of its
// account; the returned context carries both to the use case (MemberIDIn,
// Authorized). The caller must not be answered, nor anything written for
// them, before Authorized(ctx) returns nil.
func (s *Service) Start(ctx context.Context, token string) (context.Context, Caller, error) {
	c, err := s.Verify(token)
	if err != nil {
		return ctx, Caller{}, err
	}
	st := &started{caller: c, done: make(chan struct{})}
	go func() {
		defer close(st.done)
		st.err = s.checkInBackground(ctx, c.Account)
	}()
	return context.WithValue(ctx, ctxKey{}, st), c, nil
}

// Authorized waits for the revocation read Start began for ctx's caller:
// fault.TokenInvalid when the account was deleted, the read's error when
// it failed. It is nil at once for a context Start did not make: its
// caller was authenticated before the use case ran.
func Authorized(ctx context.Context) error {
	st, ok := ctx.Value(ctxKey{}).(*started)
	if !ok {
		return nil
	}
	select {
	case <-st.done:
		return st.err
	case <-ctx.Done():
		return fmt.Errorf("%w: the revocation read: %w", fault.Unavailable, context.Cause(ctx))
	}
}

// MemberIDIn is the memberId the token of ctx's caller carries when that
// caller is openid, "" otherwise (no token started in ctx, another user,
// or a token without one).
func MemberIDIn(ctx context.Context, openid string) string {
	st, ok := ctx.Value(ctxKey{}).(*started)
	if !ok || st.caller.OpenID != openid {
		return ""
	}
	return st.caller.MemberID
}

// Alongside starts the revocation read of caller's account, to run beside
// the use case's own first read; the function it returns waits for it
// (fault.TokenInvalid when the account was deleted) and may be called
// again. When ctx already carries caller's read (Start), it waits for that
// one instead of reading twice.
func (s *Service) Alongside(ctx context.Context, caller Caller) func() error {
	if st, ok := ctx.Value(ctxKey{}).(*started); ok && st.caller == caller {
		return func() error { return Authorized(ctx) }
	}
	done := make(chan error, 1)
	go func() { done <- s.checkInBackground(ctx, caller.Account) }()
	return sync.OnceValue(func() error { return <-done })
}

// errPanicked stands for a revocation read that panicked.
var errPanicked = errors.New("session: the revocation read panicked")

// checkInBackground is CheckAccount on a goroutine of its own, where a
// panic would end the process rather than reach the route's recovery: it
// is logged and answered as an error.
func (s *Service) checkInBackground(ctx context.Context, account string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			slog.ErrorContext(ctx, "panic", "in", "revocation read", "panic", slog.AnyValue(r))
			err = errPanicked
		}
	}()
	return s.CheckAccount(ctx, account)
}

// MemberStore finds and makes memberIds; *store.DynamoStore satisfies it.
type MemberStore interface {
	LookupMemberID(ctx context.Context, openid string) (string, bool, error)
	MemberID(ctx context.Context, openid, newID string) (string, error)
}

// MemberOf is openid's memberId: the one their token carries, else read,
// else made on first use. Only the making writes, so it waits for the
// revocation read a read route runs beside its use case.
func MemberOf(ctx context.Context, st MemberStore, openid string) (string, error) {
	if mid := MemberIDIn(ctx, openid); mid != "" {
		return mid, nil
	}
	mid, found, err := st.LookupMemberID(ctx, openid)
	if err != nil || found {
		return mid, err
	}
	if err := Authorized(ctx); err != nil {
		return "", err
	}
	return st.MemberID(ctx, openid, crypto.NewID())
}
