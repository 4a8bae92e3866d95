package werun

import (
	"context"
	"errors"
	"fmt"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// Sources recorded on each day, so an operator can tell the paths apart.
const (
	SourceEncrypted = "encryptedData"
	SourceCloudID   = "cloudID"
)

// SyncResult is the answer to a sync: every day the payload carried, at the
// count now stored, and how many days this sync changed.
type SyncResult struct {
	Days    []steps.Day
	Changed int
	// Session is set when the sync logged the user in (the stateless flow).
	Session *Session
}

// EncryptedSync is a sync from wx.getWeRunData's encryptedData and iv.
type EncryptedSync struct {
	Caller        Caller // from the session token; empty with Code
	Code          string // a fresh wx.login code, for the stateless flow
	EncryptedData string
	IV            string
}

// SyncEncrypted decrypts the data with the user's session keys, newest first,
// and stores the days that changed. With a Code and no OpenID it logs the user
// in first and returns the new session too.
func (s *Service) SyncEncrypted(ctx context.Context, in EncryptedSync) (_ SyncResult, err error) {
	defer fault.Classify(&err)
	var (
		session *Session
		fresh   string // the key code2Session just returned, tried first
	)
	caller := in.Caller
	if caller.OpenID == "" {
		if !wechat.ValidCode(in.Code) {
			return SyncResult{}, fault.MalformedCode
		}
		r, err := s.redeem(ctx, in.Code)
		if err != nil {
			return SyncResult{}, err
		}
		if r.stored != nil {
			// The sync needs the table anyway; a resend of the same code
			// is answered from the code's record.
			return SyncResult{}, r.stored
		}
		sess, err := s.issue(ctx, r.openid)
		if err != nil {
			return SyncResult{}, err
		}
		session, fresh = &sess, r.sessionKey
		caller = Caller{OpenID: sess.OpenID, Account: sess.Account}
	}
	user, err := s.store.LoadUser(ctx, caller.OpenID, steps.FirstDate(s.now()))
	if err != nil {
		return SyncResult{}, err
	}
	payload, err := s.open(sessionKeys(user, fresh), in.EncryptedData, in.IV)
	if err != nil {
		return SyncResult{}, err
	}
	res, err := s.commit(ctx, caller, user, payload, SourceEncrypted)
	res.Session = session
	return res, err
}

// open decrypts WeRun data with the first key that opens it.
func (s *Service) open(keys []string, encryptedData, iv string) (steps.Payload, error) {
	var p steps.Payload
	err := s.decryptOpenData(keys, encryptedData, iv, func(plain []byte) (crypto.Watermark, bool, error) {
		var err error
		p, err = steps.ParsePayload(plain)
		return p.Watermark, !errors.Is(err, steps.ErrMalformedPayload), err
	})
	return p, err
}

// decryptOpenData tries each session key in turn and hands the plaintext to
// parse, which returns its watermark, whether it is well-formed JSON of its
// kind, and any error in its content. A wrong key almost always fails the
// padding check; when it does not, the plaintext is not well-formed or
// carries a watermark of no app, so a well-formed plaintext whose watermark
// names this app proves the key was the right one. Only then is a content
// error reported as such; every failure before that point is the one
// ErrDecryptFailed, so the answers are no padding oracle.
func (s *Service) decryptOpenData(keys []string, encryptedData, iv string, parse func([]byte) (crypto.Watermark, bool, error)) error {
	if len(keys) == 0 {
		return fault.NoSessionKey
	}
	wrongApp := false
	for _, key := range keys {
		plain, err := crypto.Decrypt(key, encryptedData, iv)
		switch {
		case errors.Is(err, crypto.ErrDecrypt):
			continue
		case errors.Is(err, crypto.ErrKeySize):
			continue // a corrupt stored key cannot be the right one
		case err != nil:
			return err // the input itself is malformed
		}
		w, wellFormed, err := parse(plain)
		if !wellFormed {
			continue
		}
		if w.AppID != s.appID {
			wrongApp = true
			continue
		}
		return err // the key is proven; err is about the content
	}
	if wrongApp {
		return crypto.ErrWrongApp
	}
	return fault.DecryptFailed
}

// sessionKeys are the user's held session keys, newest first, with fresh
// (a key code2Session just returned, or "") tried first.
func sessionKeys(user store.User, fresh string) []string {
	keys := make([]string, 0, len(user.SessionKeys)+1)
	if fresh != "" {
		keys = append(keys, fresh)
	}
	for _, k := range user.SessionKeys {
		if k.Key != fresh {
			keys = append(keys, k.Key)
		}
	}
	return keys
}

// commit is the one write path both ways in end in: check the watermark,
// validate the list, write only the days that grew.
//
// A deletion may race the sync: it revokes the account before it reads what
// to delete, so the sync reads the revocation after its writes. Either the
// deletion's read finds the days written, or the sync finds the revocation
// and deletes them itself; the account never comes back.
func (s *Service) commit(ctx context.Context, caller Caller, user store.User, p steps.Payload, source string) (SyncResult, error) {
	openid := caller.OpenID
	now := s.now()
	if err := p.Watermark.Check(s.appID, now, s.maxAge); err != nil {
		return SyncResult{}, err
	}
	days, err := steps.Validate(p.StepInfoList, now)
	if err != nil {
		return SyncResult{}, err
	}
	stored := make(map[string]int64, len(user.Days))
	for _, d := range s.retained(user.Days) {
		stored[d.Date] = d.Steps
	}
	changed := steps.Diff(stored, days)
	today := steps.DateOf(now)
	writes := make([]store.Day, len(changed))
	for i, d := range changed {
		writes[i] = store.Day{Date: d.Date, Steps: d.Steps, SourceTS: p.Watermark.Timestamp, Source: source, UpdatedAt: now,
			ExpiresAt: s.dayExpiry(d.Date)}
		switch {
		case !s.plausible(d.Steps, p.Watermark.Timestamp, d.Date):
			// Stored for the user's history, kept off the boards.
			writes[i].OffBoard = true
		case d.Date == today:
			// Today's day alone joins the sparse index today's board is read from.
			writes[i].Board = BoardShard(openid, today)
		}
	}
	written, err := s.store.WriteDays(ctx, openid, writes)
	if err != nil {
		return SyncResult{}, fmt.Errorf("werun: store days: %w", err)
	}
	// The events' credits go beside the revocation's read: a sync in events
	// takes no more round trips than one outside them.
	credit := make(chan error, 1)
	if s.events != nil && len(user.Events) > 0 && len(written) > 0 {
		go func() { credit <- s.events.Credit(ctx, openid, user.Events, written) }()
	} else {
		credit <- nil
	}
	err = s.checkAccount(ctx, caller.Account)
	if cerr := <-credit; err == nil && cerr != nil {
		return SyncResult{}, cerr
	}
	if err != nil {
		if errors.Is(err, fault.TokenInvalid) {
			if err := s.store.ForgetDays(ctx, openid, written); err != nil {
				return SyncResult{}, err
			}
		}
		return SyncResult{}, err
	}
	// A day already stored at a higher count answers with that count, which
	// is what a read of the day would show.
	for i, d := range days {
		if n, ok := stored[d.Date]; ok && n > d.Steps {
			days[i].Steps = n
		}
	}
	return SyncResult{Days: days, Changed: len(written)}, nil
}
