package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usecases"
	"github.com/werun-sam/werun-sam/shared/usersteps"
)

// SessionRequest is the body of POST /v1/session.
type SessionRequest struct {
	Code string `json:"code"`
}

// Session serves POST /v1/session: a wx.login code for a session token.
func Session(u *usecases.Set) Handler {
	return route("session", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		var in SessionRequest
		if err := decode(req, &in); err != nil {
			return 0, nil, err
		}
		if err := required([2]string{"code", in.Code}); err != nil {
			return 0, nil, err
		}
		s, err := u.Sessions.Login(ctx, in.Code)
		return http.StatusOK, s, err
	})
}

// DecryptRequest is the body of POST /v1/werun/decrypt: what
// wx.getWeRunData returned, and optionally a fresh wx.login code in place of
// a session token.
type DecryptRequest struct {
	EncryptedData string `json:"encryptedData"`
	IV            string `json:"iv"`
	Code          string `json:"code"`
}

// SyncResponse is the answer of both sync routes. Token and ExpiresIn are set
// only when the request logged in with a code.
type SyncResponse struct {
	Days      []steps.Day `json:"days"`
	Changed   int         `json:"changed"`
	Token     string      `json:"token,omitempty"`
	ExpiresIn int         `json:"expiresIn,omitempty"`
}

func syncResponse(r usersteps.SyncResult) SyncResponse {
	out := SyncResponse{Days: r.Days, Changed: r.Changed}
	if r.Session != nil {
		out.Token, out.ExpiresIn = r.Session.Token, r.Session.ExpiresIn
	}
	return out
}

// Decrypt serves POST /v1/werun/decrypt.
func Decrypt(u *usecases.Set) Handler {
	return route("decrypt", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		var in DecryptRequest
		if err := decode(req, &in); err != nil {
			return 0, nil, err
		}
		if err := required([2]string{"encryptedData", in.EncryptedData}, [2]string{"iv", in.IV}); err != nil {
			return 0, nil, err
		}
		sync := usersteps.EncryptedSync{Code: in.Code, EncryptedData: in.EncryptedData, IV: in.IV}
		if in.Code == "" || bearer(req) != "" {
			caller, err := verified(u.Sessions, req)
			if err != nil {
				return 0, nil, err
			}
			sync.Caller = caller
		}
		r, err := u.Steps.SyncEncrypted(ctx, sync)
		return http.StatusOK, syncResponse(r), err
	})
}

// CloudIDRequest is the body of POST /v1/werun/cloudid.
type CloudIDRequest struct {
	CloudID string `json:"cloudID"`
}

// CloudID serves POST /v1/werun/cloudid.
func CloudID(u *usecases.Set) Handler {
	return route("cloudid", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		caller, err := verified(u.Sessions, req)
		if err != nil {
			return 0, nil, err
		}
		var in CloudIDRequest
		if err := decode(req, &in); err != nil {
			return 0, nil, err
		}
		if err := required([2]string{"cloudID", in.CloudID}); err != nil {
			return 0, nil, err
		}
		r, err := u.Steps.SyncCloudID(ctx, caller, in.CloudID)
		return http.StatusOK, syncResponse(r), err
	})
}

// DaysResponse is the answer of GET /v1/steps.
type DaysResponse struct {
	Days []steps.Day `json:"days"`
}

// Steps serves GET /v1/steps?from=&to= and GET /v1/steps/summary, the two
// read routes of one function.
func Steps(u *usecases.Set) Handler {
	return route("steps", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		return alongside(ctx, u.Sessions, req, func(ctx context.Context, caller session.Caller) (int, any, error) {
			if req.RouteKey == "GET /v1/steps/summary" {
				sum, err := u.Steps.Summary(ctx, caller.OpenID)
				return http.StatusOK, sum, err
			}
			q := req.QueryStringParameters
			days, err := u.Steps.Days(ctx, caller.OpenID, q["from"], q["to"])
			return http.StatusOK, DaysResponse{Days: days}, err
		})
	})
}
