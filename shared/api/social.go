package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

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

// Social serves the profile, group and friend routes, one function.
func Social(u *usecases.Set) Handler {
	return route("social", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		caller, err := authenticate(ctx, u.Sessions, req)
		if err != nil {
			return 0, nil, err
		}
		openid := caller.OpenID
		q, p := req.QueryStringParameters, req.PathParameters
		switch req.RouteKey {
		case "PUT /v1/me/profile":
			var in ProfileRequest
			if err := decode(req, &in); err != nil {
				return 0, nil, err
			}
			out, err := u.Social.SetProfile(ctx, openid, social.Profile{Nickname: in.Nickname, AvatarURL: in.AvatarURL})
			return http.StatusOK, out, err
		case "GET /v1/me/profile":
			out, err := u.Social.GetProfile(ctx, openid)
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
		case "GET /v1/groups":
			out, err := u.Social.Groups(ctx, openid, q["cursor"])
			return http.StatusOK, out, err
		case "GET /v1/groups/{groupId}/board":
			out, err := u.Social.GroupBoard(ctx, openid, p["groupId"], q["date"])
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
		case "GET /v1/friends":
			out, err := u.Social.Friends(ctx, openid)
			return http.StatusOK, out, err
		case "GET /v1/friends/board":
			out, err := u.Social.FriendsBoard(ctx, openid, q["date"])
			return http.StatusOK, out, err
		case "DELETE /v1/friends/{friendId}":
			return http.StatusNoContent, nil, u.Social.Unfriend(ctx, openid, p["friendId"])
		}
		// Only a template that routes elsewhere here gets this far.
		return 0, nil, internal()
	})
}
