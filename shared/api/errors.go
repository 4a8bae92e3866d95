package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/werun-sam/werun-sam/shared/api/internal/wire"
	"github.com/werun-sam/werun-sam/shared/display"
	"github.com/werun-sam/werun-sam/shared/fault"
	"github.com/werun-sam/werun-sam/shared/social"
	"github.com/werun-sam/werun-sam/shared/steps"
	"github.com/werun-sam/werun-sam/shared/usersteps"
	"github.com/werun-sam/werun-sam/shared/wechat"
)

// Error is one answer of the error envelope:
// {"error":{"code":"UPPER_SNAKE","message":"what to do next"}}.
// Its message is written for the mini program developer and never carries
// an internal error string.
type Error = wire.Error

func internal() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "INTERNAL",
		Message: "Something failed on the server; the request changed nothing that a retry would not repair. Retry later."}
}

var (
	errMissingToken = &Error{Status: http.StatusUnauthorized, Code: "MISSING_TOKEN",
		Message: "Send Authorization: Bearer <token>, with the token from POST /v1/session."}
)

const reLogin = "call wx.login and POST /v1/session (or send the new code with the data), then call wx.getWeRunData again"

// answers is the one table from the outward classes to the envelope: keyed by
// class, since several classes share a code and each has its own message.
// TestEveryClassHasOneAnswer ties it to fault.All.
var answers = map[*fault.Class]Error{
	fault.TokenExpired:         {Status: http.StatusUnauthorized, Code: "TOKEN_EXPIRED", Message: "The session token has expired: call wx.login and POST /v1/session for a new one."},
	fault.TokenInvalid:         {Status: http.StatusUnauthorized, Code: "INVALID_TOKEN", Message: "The session token is not valid: call wx.login and POST /v1/session for a new one."},
	fault.InvalidBase64:        {Status: http.StatusBadRequest, Code: "INVALID_BASE64", Message: "encryptedData and iv must be the base64 strings wx.getWeRunData returned, sent unchanged in a JSON body."},
	fault.InvalidIV:            {Status: http.StatusBadRequest, Code: "INVALID_IV", Message: "iv must be the 24-character base64 iv that wx.getWeRunData returned with this encryptedData."},
	fault.InvalidEncryptedData: {Status: http.StatusBadRequest, Code: "INVALID_ENCRYPTED_DATA", Message: "encryptedData is not whole AES blocks: send it exactly as wx.getWeRunData returned it."},
	fault.NoSessionKey:         {Status: http.StatusUnprocessableEntity, Code: "NO_SESSION_KEY", Message: "The server holds no session key for this user: " + reLogin + "."},
	fault.DecryptFailed:        {Status: http.StatusUnprocessableEntity, Code: "DECRYPT_FAILED", Message: "The data does not decrypt with any session key held for this user: " + reLogin + "."},
	fault.WrongApp:             {Status: http.StatusUnprocessableEntity, Code: "WRONG_APPID", Message: "The data was issued to another mini program: check that the backend's WECHAT_APPID is this mini program's AppID."},
	fault.StaleData:            {Status: http.StatusUnprocessableEntity, Code: "STALE_DATA", Message: "The data is too old (or dated in the future): call wx.getWeRunData again and send the result at once."},
	fault.NoStepData:           {Status: http.StatusUnprocessableEntity, Code: "NO_STEP_DATA", Message: "The data holds no step list: send what wx.getWeRunData returned."},
	fault.InvalidStepData:      {Status: http.StatusUnprocessableEntity, Code: "INVALID_STEP_DATA", Message: "The step data is not a usable WeRun step list (impossible counts or not WeRun data): call wx.getWeRunData again."},
	fault.MalformedCode:        {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "code must be the code wx.login returned, unchanged: at most " + strconv.Itoa(wechat.MaxCodeLen) + " letters, digits and - _ . ~ + / = characters."},
	fault.MalformedCloudID:     {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "cloudID must be the cloudID wx.getWeRunData returned, unchanged: at most " + strconv.Itoa(wechat.MaxCloudIDLen) + " letters, digits and - _ . ~ + / = characters."},
	fault.InvalidRange:         {Status: http.StatusBadRequest, Code: "INVALID_RANGE", Message: "from and to must be dates like 2026-01-31, from not after to, at most " + strconv.Itoa(usersteps.MaxRangeDays) + " days apart."},
	fault.BoardDate:            {Status: http.StatusBadRequest, Code: "INVALID_RANGE", Message: "date must be a date like 2026-01-31, one of the last " + strconv.Itoa(steps.WindowDays) + " days (China Standard Time)."},
	fault.InvalidNickname:      {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "nickname must be 1 to " + strconv.Itoa(social.MaxNickname) + " characters after trimming spaces, with no control, invisible or direction-changing character (emoji sequences are fine)."},
	fault.InvalidAvatar:        {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "avatarUrl must be empty or an https:// link of at most " + strconv.Itoa(display.MaxURL) + " bytes to a host name (no IP address, port, user name, spaces, quotes or angle brackets): upload the chosen avatar to your own storage first."},
	fault.InvalidCursor:        {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "cursor must be the cursor of the previous page, unchanged."},
	fault.NicknameRejected:     {Status: http.StatusUnprocessableEntity, Code: "NICKNAME_REJECTED", Message: "WeChat's content check rejected the nickname: ask the user for another one."},
	fault.NoGroupData:          {Status: http.StatusUnprocessableEntity, Code: "NO_GROUP_DATA", Message: "The data names no group: send what wx.getShareInfo, wx.getGroupEnterInfo or wx.getChatToolInfo returned in a group chat."},
	fault.GroupNotFound:        {Status: http.StatusNotFound, Code: "GROUP_NOT_FOUND", Message: "No such group among the caller's groups: join it with POST /v1/groups first."},
	fault.FriendNotFound:       {Status: http.StatusNotFound, Code: "FRIEND_NOT_FOUND", Message: "No such friend among the caller's friends."},
	fault.InvalidInvite:        {Status: http.StatusUnprocessableEntity, Code: "INVALID_INVITE", Message: "The invite code is unknown, expired (after " + strconv.Itoa(int(social.InviteTTL.Hours()/24)) + " days) or the caller's own: ask the friend for a new share card."},
	fault.LimitReached:         {Status: http.StatusUnprocessableEntity, Code: "LIMIT_REACHED", Message: "A limit is reached: a group holds at most " + strconv.Itoa(social.DefaultGroupMembers) + " members, a user at most " + strconv.Itoa(social.DefaultUserGroups) + " groups and " + strconv.Itoa(social.DefaultFriends) + " friends (the defaults; the operator may set others). Leave a group or remove a friend first."},
	fault.InvalidCode:          {Status: http.StatusBadRequest, Code: "INVALID_CODE", Message: "WeChat refused the code (unknown, expired or already used): call wx.login for a new one (a code works once, for about five minutes)."},
	fault.UserBlocked:          {Status: http.StatusUnprocessableEntity, Code: "USER_BLOCKED", Message: "WeChat blocks this user as high-risk (40226); nothing can be synced for them."},
	fault.CloudIDExpired:       {Status: http.StatusUnprocessableEntity, Code: "CLOUDID_EXPIRED", Message: "The cloudID has expired or is not this user's: call wx.getWeRunData again and send the new cloudID at once (it lives about five minutes)."},
	fault.RateLimited:          {Status: http.StatusTooManyRequests, Code: "RATE_LIMITED", Message: "WeChat is rate-limiting this app: retry in a minute.", RetryAfter: 60},
	fault.QuotaExhausted:       {Status: http.StatusServiceUnavailable, Code: "WECHAT_QUOTA_EXHAUSTED", Message: "WeChat's daily quota for this app is spent: retry after Retry-After (an hour); the operator can reset the quota with WeChat's clear_quota.", RetryAfter: 3600},
	fault.WeChatConfig:         {Status: http.StatusBadGateway, Code: "WECHAT_CONFIG", Message: "WeChat refused the backend's request: the operator must check the function's log for WeChat's error code, and the AppID, AppSecret, IP whitelist and API permissions."},
	fault.WeChatUnavailable:    {Status: http.StatusBadGateway, Code: "WECHAT_UNAVAILABLE", Message: "WeChat did not answer usefully; retry in a few seconds, nothing was lost.", RetryAfter: 5},
	fault.DeletionInProgress:   {Status: http.StatusConflict, Code: "DELETION_IN_PROGRESS", Message: "This user's account is being deleted: log in again after Retry-After; the new account starts empty.", RetryAfter: 60},
	fault.Unavailable:          {Status: http.StatusServiceUnavailable, Code: "UNAVAILABLE", Message: "The server is busy; retry in a second, it is safe to resend and nothing acknowledged was lost.", RetryAfter: 1},

	fault.EventNotFound:       {Status: http.StatusNotFound, Code: "EVENT_NOT_FOUND", Message: "No such event for this caller: it does not exist, was cancelled, or the caller is neither its organizer nor a participant."},
	fault.EventEnded:          {Status: http.StatusUnprocessableEntity, Code: "EVENT_ENDED", Message: "The event has ended: nobody can join, leave or be removed, its results are a record."},
	fault.JoinRefused:         {Status: http.StatusUnprocessableEntity, Code: "JOIN_REFUSED", Message: "The organizer removed this user from the event, so they cannot join again."},
	fault.ConsentRequired:     {Status: http.StatusBadRequest, Code: "CONSENT_REQUIRED", Message: "consent must be true: show the user that the organizer will see their daily steps for the event's days, and send their consent."},
	fault.ProfileRequired:     {Status: http.StatusUnprocessableEntity, Code: "PROFILE_REQUIRED", Message: "Set a nickname with PUT /v1/me/profile before joining: the organizer's results list participants by nickname."},
	fault.TeamLocked:          {Status: http.StatusUnprocessableEntity, Code: "TEAM_LOCKED", Message: "The event has started: a participant's team is fixed."},
	fault.NotOrganizer:        {Status: http.StatusForbidden, Code: "NOT_ORGANIZER", Message: "Only the event's organizer may do this."},
	fault.ParticipantNotFound: {Status: http.StatusNotFound, Code: "PARTICIPANT_NOT_FOUND", Message: "No such participant in the event."},
	fault.ContentRejected:     {Status: http.StatusUnprocessableEntity, Code: "CONTENT_REJECTED", Message: "WeChat's content check rejected the event's name or a team name: choose other names."},
	fault.EventLimit:          {Status: http.StatusUnprocessableEntity, Code: "LIMIT_REACHED", Message: "A limit is reached: a user takes part in at most 20 events that have not ended, an event has at most 5000 participants."},
	fault.MissingEventDates:   {Status: http.StatusBadRequest, Code: "MISSING_FIELD", Message: "startDate and endDate are required."},
	fault.InvalidEventDates:   {Status: http.StatusBadRequest, Code: "INVALID_RANGE", Message: "startDate and endDate must be dates like 2026-01-31: startDate from 30 days ago to 90 days ahead (China Standard Time), endDate not before it, at most 100 days in all."},
	fault.MissingEventName:    {Status: http.StatusBadRequest, Code: "MISSING_FIELD", Message: "name is required."},
	fault.InvalidEventName:    {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "name must be 1 to 32 characters after trimming spaces, without control or invisible characters."},
	fault.InvalidDailyGoal:    {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "dailyGoal must be an integer from 1 to 100000."},
	fault.InvalidDailyCap:     {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "dailyCap must be 0 (no cap) or an integer from dailyGoal to 100000."},
	fault.InvalidGoalDays:     {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "goalDays must be an integer from 1 to the event's length in days."},
	fault.InvalidTeams:        {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "teams must hold at most 100 distinct names of 1 to 16 characters, without control or invisible characters."},
	fault.MissingTeam:         {Status: http.StatusBadRequest, Code: "MISSING_FIELD", Message: "teamId is required: the event has teams."},
	fault.InvalidTeam:         {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "teamId must be one of the event's teams, and absent for an event without teams."},
	fault.MissingJoinCode:     {Status: http.StatusBadRequest, Code: "MISSING_FIELD", Message: "joinCode is required."},
	fault.InvalidExportFormat: {Status: http.StatusBadRequest, Code: "INVALID_FIELD", Message: "format must be csv or xlsx."},
	fault.ExportTooLarge:      {Status: http.StatusUnprocessableEntity, Code: "EXPORT_TOO_LARGE", Message: "The export is larger than one answer may be (6 MB): ask for format=xlsx, which is compressed."},
}

// classify turns any error into its answer; an unknown one is a 500 whose
// message says nothing of the cause.
func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ans, ok := answers[fault.Of(err)]; ok {
		// A refused name or link also says which rule it broke; the reason
		// never quotes the value.
		var d *display.Error
		if errors.As(err, &d) {
			ans.Message += " This one: " + d.Error() + "."
		}
		return &ans
	}
	return internal()
}

func errorResponse(e *Error) events.APIGatewayV2HTTPResponse {
	h := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"}
	if e.RetryAfter > 0 {
		h["Retry-After"] = strconv.Itoa(e.RetryAfter)
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: e.Status, Headers: h, Body: wire.Envelope(e)}
}
