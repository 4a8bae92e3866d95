package api

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/werun"
)

// Account serves the user's own data: GET /v1/me/export and DELETE /v1/me,
// one function.
func Account(svc *werun.Service) Handler {
	return route("account", func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (int, any, error) {
		caller, err := authenticate(ctx, svc, req)
		if err != nil {
			return 0, nil, err
		}
		switch req.RouteKey {
		case "GET /v1/me/export":
			out, err := svc.Export(ctx, caller)
			return http.StatusOK, out, err
		case "DELETE /v1/me":
			return http.StatusNoContent, nil, svc.DeleteAccount(ctx, caller)
		}
		// Only a template that routes elsewhere here gets this far.
		return 0, nil, internal()
	})
}
