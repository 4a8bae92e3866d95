package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/usecases"
)

// Account serves the user's own data: GET /v1/me/export and DELETE /v1/me,
// one function. A deletion checks its token itself: the same token may
// finish a deletion that failed part way.
func Account(u *usecases.Set) Handler {
	return route("account", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		switch req.RouteKey {
		case "GET /v1/me/export":
			caller, err := authenticate(ctx, u.Sessions, req)
			if err != nil {
				return 0, nil, err
			}
			out, err := u.Account.Export(ctx, caller)
			return http.StatusOK, out, err
		case "DELETE /v1/me":
			token := bearer(req)
			if token == "" {
				return 0, nil, errMissingToken
			}
			return http.StatusNoContent, nil, u.Account.DeleteAccount(ctx, token)
		}
		// Only a template that routes elsewhere here gets this far.
		return 0, nil, internal()
	})
}
