package werun

import (
	"context"
	"errors"
	"fmt"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// SyncCloudID resolves a cloudID with the caller's openid through WeChat's
// getopendata and stores the days that changed, through the same write path
// as SyncEncrypted. The user's partition is read while WeChat answers.
func (s *Service) SyncCloudID(ctx context.Context, caller Caller, cloudID string) (_ SyncResult, err error) {
	defer fault.Classify(&err)
	if !wechat.ValidCloudID(cloudID) {
		return SyncResult{}, fault.MalformedCloudID
	}
	type loaded struct {
		user store.User
		err  error
	}
	userc := make(chan loaded, 1)
	go func() {
		u, err := s.store.LoadUser(ctx, caller.OpenID, steps.FirstDate(s.now()))
		userc <- loaded{u, err}
	}()
	data, err := s.openData(ctx, caller.OpenID, cloudID)
	l := <-userc
	if err != nil {
		return SyncResult{}, err
	}
	if l.err != nil {
		return SyncResult{}, l.err
	}
	p, err := steps.ParsePayload(data)
	if err != nil {
		return SyncResult{}, err
	}
	return s.commit(ctx, caller, l.user, p, SourceCloudID)
}

// openData calls getopendata with the shared access token.
func (s *Service) openData(ctx context.Context, openid, cloudID string) ([]byte, error) {
	var list []wechat.OpenData
	err := s.withAccessToken(ctx, func(token string) error {
		var err error
		list, err = s.wechat.GetOpenData(ctx, token, openid, []string{cloudID})
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
	return nil, fmt.Errorf("werun: getopendata answered without the requested cloudID: %w", wechat.ErrCloudIDExpired)
}

// withAccessToken calls fn with the shared access token and, when WeChat
// rejects that token, replaces it once and calls again.
func (s *Service) withAccessToken(ctx context.Context, fn func(token string) error) error {
	for attempt := 0; ; attempt++ {
		token, err := s.tokens.Token(ctx)
		if err != nil {
			return err
		}
		err = fn(token)
		if errors.Is(err, wechat.ErrTokenRejected) && attempt == 0 {
			if err := s.tokens.Rejected(ctx, token); err != nil {
				return err
			}
			continue
		}
		return err
	}
}
