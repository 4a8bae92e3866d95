package usersteps

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// SyncCloudID resolves a cloudID with the caller's openid through WeChat's
// getopendata and stores the days that changed, through the same write path
// as SyncEncrypted. The user's partition and the revocation are read while
// WeChat answers.
func (s *Service) SyncCloudID(ctx context.Context, caller session.Caller, cloudID string) (_ SyncResult, err error) {
	defer fault.Classify(&err)
	if !wechat.ValidCloudID(cloudID) {
		return SyncResult{}, fault.MalformedCloudID
	}
	authorized := s.authorize(ctx, caller, true)
	var (
		user store.User
		data []byte
		g    errgroup.Group
	)
	g.Go(func() (err error) {
		user, err = s.store.LoadUser(ctx, caller.OpenID, steps.FirstDate(s.now()))
		return err
	})
	g.Go(func() (err error) { data, err = s.opener.Resolve(ctx, caller.OpenID, cloudID); return err })
	err = g.Wait()
	if aerr := authorized(); aerr != nil {
		return SyncResult{}, aerr
	}
	if err != nil {
		return SyncResult{}, err
	}
	p, err := steps.ParsePayload(data)
	if err != nil {
		return SyncResult{}, err
	}
	return s.commit(ctx, caller.OpenID, user, p, SourceCloudID)
}
