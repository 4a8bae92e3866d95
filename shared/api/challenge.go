package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/challenge"
	"github.com/werun-sam/werun-sam/shared/session"
	"github.com/werun-sam/werun-sam/shared/usecases"
)

// EventRequest is the body of POST /v1/events; absent or null numbers take
// their defaults.
type EventRequest struct {
	Name      string   `json:"name"`
	StartDate string   `json:"startDate"`
	EndDate   string   `json:"endDate"`
	DailyGoal *int64   `json:"dailyGoal"`
	DailyCap  *int64   `json:"dailyCap"`
	GoalDays  *int64   `json:"goalDays"`
	Teams     []string `json:"teams"`
}

// JoinEventRequest is the body of POST /v1/events/join.
type JoinEventRequest struct {
	JoinCode string `json:"joinCode"`
	TeamID   string `json:"teamId"`
	Consent  *bool  `json:"consent"`
}

// Challenge serves the step-challenge routes (/v1/events...), one function;
// its reads run beside the revocation read of the caller's account.
func Challenge(u *usecases.Set) Handler {
	ev := u.Challenge
	return route("challenge", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		q, p := req.QueryStringParameters, req.PathParameters
		// The reads write nothing (a memberId made on first use waits for
		// the revocation read), so they run beside it.
		switch req.RouteKey {
		case "GET /v1/events", "GET /v1/events/{eventId}", "GET /v1/events/{eventId}/participants",
			"GET /v1/events/{eventId}/board", "GET /v1/events/{eventId}/teams", "GET /v1/events/{eventId}/export":
			return alongside(ctx, u.Sessions, req, func(ctx context.Context, caller session.Caller) (int, any, error) {
				return challengeRead(ctx, ev, req.RouteKey, caller.OpenID, p, q)
			})
		}
		caller, err := authenticate(ctx, u.Sessions, req)
		if err != nil {
			return 0, nil, err
		}
		openid := caller.OpenID
		switch req.RouteKey {
		case "POST /v1/events":
			var in EventRequest
			if err := decode(req, &in); err != nil {
				return 0, nil, err
			}
			out, err := ev.Create(ctx, openid, challenge.NewEvent{Name: in.Name, StartDate: in.StartDate, EndDate: in.EndDate,
				DailyGoal: in.DailyGoal, DailyCap: in.DailyCap, GoalDays: in.GoalDays, Teams: in.Teams})
			return http.StatusCreated, out, err
		case "POST /v1/events/join":
			var in JoinEventRequest
			if err := decode(req, &in); err != nil {
				return 0, nil, err
			}
			out, err := ev.Join(ctx, openid, challenge.JoinRequest{JoinCode: in.JoinCode, TeamID: in.TeamID, Consent: in.Consent != nil && *in.Consent})
			return http.StatusOK, out, err
		case "DELETE /v1/events/{eventId}":
			return http.StatusNoContent, nil, ev.Cancel(ctx, openid, p["eventId"])
		case "POST /v1/events/{eventId}/joinCode":
			out, err := ev.RotateJoinCode(ctx, openid, p["eventId"])
			return http.StatusOK, out, err
		case "DELETE /v1/events/{eventId}/participants/{memberId}":
			return http.StatusNoContent, nil, ev.Remove(ctx, openid, p["eventId"], p["memberId"])
		}
		// Only a template that routes elsewhere here gets this far.
		return 0, nil, internal()
	})
}

// challengeRead answers the step challenges' read routes.
func challengeRead(ctx context.Context, ev *challenge.Service, route, openid string, p, q map[string]string) (int, any, error) {
	switch route {
	case "GET /v1/events":
		out, err := ev.List(ctx, openid, q["cursor"])
		return http.StatusOK, out, err
	case "GET /v1/events/{eventId}":
		out, err := ev.Get(ctx, openid, p["eventId"])
		return http.StatusOK, out, err
	case "GET /v1/events/{eventId}/participants":
		out, err := ev.Participants(ctx, openid, p["eventId"], q["cursor"])
		return http.StatusOK, out, err
	case "GET /v1/events/{eventId}/board":
		out, err := ev.Board(ctx, openid, p["eventId"], q["teamId"])
		return http.StatusOK, out, err
	case "GET /v1/events/{eventId}/export":
		f, err := ev.Export(ctx, openid, p["eventId"], q["format"])
		return http.StatusOK, download{name: f.Name, contentType: f.ContentType, body: f.Body, text: f.Text}, err
	case "GET /v1/events/{eventId}/teams":
		out, err := ev.Teams(ctx, openid, p["eventId"])
		return http.StatusOK, out, err
	}
	return 0, nil, internal()
}
