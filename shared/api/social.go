package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/usecases"
)

// ProfileRequest is the body of PUT /v1/me/profile.
type ProfileRequest struct {
	Nickname  string `json:"nickname"`
	AvatarURL string `json:"avatarUrl"`
}

// GroupRequest is the body of POST /v1/groups: what wx.getShareInfo,
// wx.getGroupEnterInfo or wx.getChatToolInfo returned.
type GroupRequest struct {
	EncryptedData string `json:"encryptedData"`
	IV            string `json:"iv"`
	CloudID       string `json:"cloudID"`
}

// AcceptRequest is the body of POST /v1/friends.
type AcceptRequest struct {
	InviteCode string `json:"inviteCode"`
}

// Social serves the profile, group and friend routes, one function. The
// reads run beside the revocation read; the writes after it.
func Social(u *usecases.Set) Handler {
	return route("social", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		switch req.RouteKey {
		case "GET /v1/me/profile", "GET /v1/groups", "GET /v1/groups/{groupId}/board", "GET /v1/friends", "GET /v1/friends/board":
			return alongside(ctx, u.Sessions, req, func(ctx context.Context, caller session.Caller) (int, any, error) {
				return socialRead(ctx, u.Social, caller.OpenID, req)
			})
		}
		caller, err := authenticate(ctx, u.Sessions, req)
		if err != nil {
			return 0, nil, err
		}
		openid := caller.OpenID
		p := req.PathParameters
		switch req.RouteKey {
		case "PUT /v1/me/profile":
			var in ProfileRequest
			if err := decode(req, &in); err != nil {
				return 0, nil, err
			}
			out, err := u.Social.SetProfile(ctx, openid, social.Profile{Nickname: in.Nickname, AvatarURL: in.AvatarURL})
			return http.StatusOK, out, err
		case "POST /v1/groups":
			var in GroupRequest
			if err := decode(req, &in); err != nil {
				return 0, nil, err
			}
			if in.CloudID == "" {
				if err := required([2]string{"encryptedData", in.EncryptedData}, [2]string{"iv", in.IV}); err != nil {
					return 0, nil, err
				}
			}
			out, err := u.Social.JoinGroup(ctx, openid, social.GroupJoin{EncryptedData: in.EncryptedData, IV: in.IV, CloudID: in.CloudID})
			return http.StatusOK, out, err
		case "DELETE /v1/groups/{groupId}":
			return http.StatusNoContent, nil, u.Social.LeaveGroup(ctx, openid, p["groupId"])
		case "POST /v1/friends/invites":
			out, err := u.Social.Invite(ctx, openid)
			return http.StatusCreated, out, err
		case "POST /v1/friends":
			var in AcceptRequest
			if err := decode(req, &in); err != nil {
				return 0, nil, err
			}
			if err := required([2]string{"inviteCode", in.InviteCode}); err != nil {
				return 0, nil, err
			}
			out, err := u.Social.AcceptInvite(ctx, openid, in.InviteCode)
			return http.StatusOK, out, err
		case "DELETE /v1/friends/{friendId}":
			return http.StatusNoContent, nil, u.Social.Unfriend(ctx, openid, p["friendId"])
		}
		// Only a template that routes elsewhere here gets this far.
		return 0, nil, internal()
	})
}

// socialRead serves the social routes that write nothing (but a memberId
// made on first use, which waits for the revocation read).
func socialRead(ctx context.Context, sc *social.Service, openid string, req events.APIGatewayV2HTTPRequest) (int, any, error) {
	q, p := req.QueryStringParameters, req.PathParameters
	var (
		out any
		err error
	)
	switch req.RouteKey {
	case "GET /v1/me/profile":
		out, err = sc.GetProfile(ctx, openid)
	case "GET /v1/groups":
		out, err = sc.Groups(ctx, openid, q["cursor"])
	case "GET /v1/groups/{groupId}/board":
		out, err = sc.GroupBoard(ctx, openid, p["groupId"], q["date"])
	case "GET /v1/friends":
		out, err = sc.Friends(ctx, openid)
	default: // GET /v1/friends/board
		out, err = sc.FriendsBoard(ctx, openid, q["date"])
	}
	return http.StatusOK, out, err
}
