// Package opendata opens what WeChat gives a mini program about its user:
// encryptedData under the user's session keys, tried newest first, or a
// cloudID resolved through getopendata with the app's access token, which
// every container shares through the table. Step lists and group identities
// come through it alike; the caller parses the plaintext.
package opendata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/werun-sam/werun-sam/shared/crypto"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// WeChat is the part of WeChat's server API this package calls;
// *wechat.Client satisfies it.
type WeChat interface {
	StableToken(ctx context.Context, forceRefresh bool) (wechat.AccessToken, error)
	GetOpenData(ctx context.Context, accessToken, openid string, cloudIDs []string) ([]wechat.OpenData, error)
}

// Store is the shared access-token record with its refresh lease;
// *store.DynamoStore satisfies it.
type Store interface {
	GetAccessToken(ctx context.Context, appID string) (store.AccessToken, bool, error)
	AcquireTokenLease(ctx context.Context, appID, holder string, now, until time.Time) (bool, error)
	ReleaseTokenLease(ctx context.Context, appID, holder string) error
	PutAccessToken(ctx context.Context, appID, holder, token string, expiresAt, forcedAt time.Time) error
}

// Config is what an Opener is built from.
type Config struct {
	AppID  string
	Store  Store
	WeChat WeChat
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TokenPoll is the wait between reads of the shared access token while
	// another container refreshes it; 0 means 100 ms.
	TokenPoll time.Duration
}

// Opener opens a user's data. Build it once per container with New.
type Opener struct {
	appID  string
	wechat WeChat
	tokens *accessTokens
}

// New builds an Opener from cfg.
func New(cfg Config) *Opener {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Opener{appID: cfg.AppID, wechat: cfg.WeChat, tokens: newAccessTokens(cfg.AppID, cfg.Store, cfg.WeChat, now, cfg.TokenPoll)}
}

// Parser reads a decrypted plaintext: its watermark, whether it is of the
// expected shape at all (a wrong key can decrypt to padding-valid noise),
// and an error about its content.
type Parser func(plain []byte) (w crypto.Watermark, wellFormed bool, err error)

// Decrypt opens encryptedData with the first of keys that yields
// well-formed data of this app, and hands it to parse. A key that yields
// nothing well-formed is skipped; no key at all is fault.NoSessionKey.
func (o *Opener) Decrypt(keys []string, encryptedData, iv string, parse Parser) error {
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
		if w.AppID != o.appID {
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

// SessionKeys are the keys to try on a user's data: fresh (a key a login
// just gave, when there is one) first, then the held ones newest first.
func SessionKeys(user store.User, fresh string) []string {
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

// Resolve returns the plaintext a cloudID stands for, asked of getopendata
// on behalf of openid.
func (o *Opener) Resolve(ctx context.Context, openid, cloudID string) ([]byte, error) {
	var list []wechat.OpenData
	err := o.WithAccessToken(ctx, func(token string) error {
		var err error
		list, err = o.wechat.GetOpenData(ctx, token, openid, []string{cloudID})
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, d := range list {
		if d.CloudID == cloudID {
			return d.Data, nil
		}
	}
	return nil, fmt.Errorf("opendata: getopendata answered without the requested cloudID: %w", wechat.ErrCloudIDExpired)
}

// WithAccessToken calls fn with the shared access token and, when WeChat
// rejects that token, once more with its replacement.
func (o *Opener) WithAccessToken(ctx context.Context, fn func(token string) error) error {
	for attempt := 0; ; attempt++ {
		token, err := o.tokens.Token(ctx)
		if err != nil {
			return err
		}
		err = fn(token)
		if errors.Is(err, wechat.ErrTokenRejected) && attempt == 0 {
			if err := o.tokens.Rejected(ctx, token); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// AccessToken returns the shared WeChat access token: from this container's
// memory, else from the table, else fetched from WeChat by one container.
func (o *Opener) AccessToken(ctx context.Context) (_ string, err error) {
	defer fault.Classify(&err)
	return o.tokens.Token(ctx)
}

// RefreshAccessToken keeps the shared token valid for at least margin; the
// scheduled refresher calls it so requests rarely wait on WeChat.
func (o *Opener) RefreshAccessToken(ctx context.Context, margin time.Duration) error {
	return o.tokens.Refresh(ctx, margin)
}
