package social

import (
	"context"
	"fmt"

	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// MaxNickname is the most code points a nickname may have, after
// normalising and trimming.
const MaxNickname = 32

// Profile is what a user shows others: a nickname and an avatar of their
// choosing (WeChat no longer hands out either).
type Profile struct {
	Nickname  string `json:"nickname"`
	AvatarURL string `json:"avatarUrl"`
}

// MyProfile is the caller's own profile, with the memberId others see.
type MyProfile struct {
	Profile
	MemberID string `json:"memberId"`
}

// validProfile checks both fields by the rules of displayed text; the
// nickname it returns (normalised and trimmed) is the one the content
// check sees and the store keeps.
func validProfile(p Profile, avatarHosts display.Hosts) (Profile, error) {
	nickname, err := display.Name(p.Nickname, MaxNickname)
	if err != nil {
		return Profile{}, fmt.Errorf("%w: %w", fault.InvalidNickname, err)
	}
	p.Nickname = nickname
	if p.AvatarURL != "" {
		if err := display.AvatarURL(p.AvatarURL, avatarHosts); err != nil {
			return Profile{}, fmt.Errorf("%w: %w", fault.InvalidAvatar, err)
		}
	}
	return p, nil
}

// SetProfile checks the nickname with WeChat's content check (scene 1, as
// the caller) and stores the profile. A "review" verdict is stored: only
// "risky" is refused.
func (s *Service) SetProfile(ctx context.Context, openid string, p Profile) (_ Profile, err error) {
	defer fault.Classify(&err)
	p, err = validProfile(p, s.avatarHosts)
	if err != nil {
		return Profile{}, err
	}
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return Profile{}, err
	}
	var suggest string
	err = s.opener.WithAccessToken(ctx, func(token string) error {
		suggest, err = s.wechat.MsgSecCheck(ctx, token, openid, wechat.SceneProfile, p.Nickname)
		return err
	})
	if err != nil {
		return Profile{}, err
	}
	if suggest == wechat.SuggestRisky {
		return Profile{}, fault.NicknameRejected
	}
	err = s.store.PutProfile(ctx, store.Profile{MemberID: mid, OpenID: openid, Nickname: p.Nickname, AvatarURL: p.AvatarURL})
	return p, err
}

// GetProfile is the caller's profile; empty strings before the first SetProfile.
func (s *Service) GetProfile(ctx context.Context, openid string) (_ MyProfile, err error) {
	defer fault.Classify(&err)
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return MyProfile{}, err
	}
	p, _, err := s.store.Profile(ctx, mid)
	return MyProfile{Profile: Profile{Nickname: p.Nickname, AvatarURL: p.AvatarURL}, MemberID: mid}, err
}

// CheckText runs WeChat's content check on text shown to others that is
// not a nickname (scene 1, as the caller); risky is WeChat's "risky"
// verdict, the only one refused.
func (s *Service) CheckText(ctx context.Context, openid, text string) (risky bool, err error) {
	defer fault.Classify(&err)
	var suggest string
	err = s.opener.WithAccessToken(ctx, func(token string) error {
		suggest, err = s.wechat.MsgSecCheck(ctx, token, openid, wechat.SceneProfile, text)
		return err
	})
	return suggest == wechat.SuggestRisky, err
}
