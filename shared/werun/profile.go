package werun

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/store"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// Profile limits.
const (
	MaxNickname  = 32   // code points, after trimming
	MaxAvatarURL = 1024 // bytes
)

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

// validProfile trims the nickname and checks both fields.
func validProfile(p Profile) (Profile, error) {
	p.Nickname = strings.TrimSpace(p.Nickname)
	n := utf8.RuneCountInString(p.Nickname)
	if n == 0 || n > MaxNickname || strings.IndexFunc(p.Nickname, unicode.IsControl) >= 0 {
		return Profile{}, fmt.Errorf("%w: %d characters after trimming", fault.InvalidNickname, n)
	}
	if p.AvatarURL != "" {
		u, err := url.Parse(p.AvatarURL)
		if len(p.AvatarURL) > MaxAvatarURL || err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(p.AvatarURL, "https://") {
			return Profile{}, fault.InvalidAvatar
		}
	}
	return p, nil
}

// SetProfile checks the nickname with WeChat's content check (scene 1, as
// the caller) and stores the profile. A "review" verdict is stored: only
// "risky" is refused.
func (s *Service) SetProfile(ctx context.Context, openid string, p Profile) (_ Profile, err error) {
	defer fault.Classify(&err)
	p, err = validProfile(p)
	if err != nil {
		return Profile{}, err
	}
	mid, err := s.memberID(ctx, openid)
	if err != nil {
		return Profile{}, err
	}
	var suggest string
	err = s.withAccessToken(ctx, func(token string) error {
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
	err = s.withAccessToken(ctx, func(token string) error {
		suggest, err = s.wechat.MsgSecCheck(ctx, token, openid, wechat.SceneProfile, text)
		return err
	})
	return suggest == wechat.SuggestRisky, err
}
