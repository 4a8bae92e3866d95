// Package fault names the outward classes of failure: each class is one
// thing the caller can do next, and package api answers each with exactly
// one envelope. A use case wraps whatever went wrong below it in its class
// (Classify), keeping the cause for the log; an error of no class is a fault
// of the server itself, answered 500.
//
// The classes are declared once, in the var block below; All lists them, so
// a table keyed by Class can be checked against them.
package fault

// Class is an outward class of failure. It is an error, so errors.Is finds
// it in a wrapped chain.
type Class struct{ msg string }

func (c *Class) Error() string { return "werun: " + c.msg }

var all []*Class

func class(msg string) *Class {
	c := &Class{msg}
	all = append(all, c)
	return c
}

// All returns every class, in declaration order.
func All() []*Class { return append([]*Class(nil), all...) }

// The classes.
var (
	// TokenExpired: the session token is past its expiry.
	TokenExpired = class("session token expired")
	// TokenInvalid: the session token is malformed, not ours, or its
	// account was deleted.
	TokenInvalid = class("session token invalid")
	// InvalidBase64: encryptedData or iv is not base64.
	InvalidBase64 = class("encryptedData or iv is not base64")
	// InvalidIV: the iv is not 16 bytes.
	InvalidIV = class("iv is not 16 bytes")
	// InvalidEncryptedData: encryptedData is not whole AES blocks.
	InvalidEncryptedData = class("encryptedData is not whole AES blocks")
	// NoSessionKey: the server holds no session key for the user, so
	// encryptedData cannot be opened until the mini program logs in again.
	NoSessionKey = class("no session key held for the user")
	// DecryptFailed: none of the held session keys opens the data.
	DecryptFailed = class("no held session key decrypts the data")
	// WrongApp: the watermark names another mini program.
	WrongApp = class("data issued to another app")
	// StaleData: the watermark is too old, or dated in the future.
	StaleData = class("data too old")
	// NoStepData: the plaintext holds no step list.
	NoStepData = class("no step list")
	// InvalidStepData: the plaintext is not a usable WeRun step list.
	InvalidStepData = class("invalid step list")
	// MalformedCode: the login code cannot be one wx.login gave (length or
	// characters); WeChat is not asked.
	MalformedCode = class("malformed login code")
	// MalformedCloudID: the cloudID cannot be one WeChat gave.
	MalformedCloudID = class("malformed cloudID")
	// InvalidRange: a date range that is malformed, reversed or too long.
	InvalidRange = class("invalid date range")
	// BoardDate: a board's date that is malformed or outside the window.
	BoardDate = class("invalid board date")
	// InvalidNickname: empty after trimming, too long, or holding a
	// character that is not shown as itself.
	InvalidNickname = class("invalid nickname")
	// InvalidAvatar: an avatarUrl that is not an https:// URL of a public
	// host, or too long.
	InvalidAvatar = class("invalid avatarUrl")
	// InvalidCursor: a cursor this API did not give.
	InvalidCursor = class("invalid cursor")
	// NicknameRejected: WeChat's content check judged the nickname risky.
	NicknameRejected = class("nickname rejected by the content check")
	// NoGroupData: the open data names no group (openGId, opengid or
	// open_single_roomid).
	NoGroupData = class("no group identity in the data")
	// GroupNotFound: no such group, or the caller is not a member.
	GroupNotFound = class("group not found")
	// FriendNotFound: the memberId is not one of the caller's friends.
	FriendNotFound = class("friend not found")
	// InvalidInvite: an unknown, expired or own invite code.
	InvalidInvite = class("invalid invite")
	// LimitReached: a group, a user's groups or a user's friends are full.
	LimitReached = class("limit reached")
	// InvalidCode: WeChat refused the login code (unknown, expired, used).
	InvalidCode = class("login code refused")
	// UserBlocked: WeChat blocks the user as high-risk.
	UserBlocked = class("user blocked by WeChat")
	// CloudIDExpired: the cloudID is expired or not the caller's.
	CloudIDExpired = class("cloudID expired")
	// RateLimited: WeChat's per-minute limit for the app is spent.
	RateLimited = class("WeChat rate limit")
	// QuotaExhausted: WeChat's daily quota of an API is spent; it resets at
	// a time WeChat does not document, or when the operator clears it.
	QuotaExhausted = class("WeChat daily quota exhausted")
	// WeChatConfig: WeChat refused the backend itself (AppSecret, IP
	// whitelist, API permission); only the operator can fix it.
	WeChatConfig = class("WeChat refused the backend")
	// WeChatUnavailable: WeChat did not give a usable answer in time.
	WeChatUnavailable = class("WeChat unavailable")
	// DeletionInProgress: the user's account is being deleted; a login waits
	// until the deletion is complete, so that nothing of the old account is
	// seen again.
	DeletionInProgress = class("account deletion in progress")
	// Unavailable: storage, or the shared access token, is busy or slow.
	Unavailable = class("temporarily unavailable")

	// The step challenges' classes.

	// EventNotFound: no such event, cancelled, or the caller may not see it.
	EventNotFound = class("event not found")
	// EventEnded: the event is over; its results are a record.
	EventEnded = class("event ended")
	// JoinRefused: the organizer removed the caller from the event.
	JoinRefused = class("join refused")
	// ConsentRequired: joining needs the caller's consent to share steps.
	ConsentRequired = class("consent required")
	// ProfileRequired: joining needs a nickname.
	ProfileRequired = class("profile required")
	// TeamLocked: a running event's participant cannot change teams.
	TeamLocked = class("team locked")
	// NotOrganizer: only the organizer may do this.
	NotOrganizer = class("not the organizer")
	// ParticipantNotFound: the memberId is not a participant.
	ParticipantNotFound = class("participant not found")
	// ContentRejected: WeChat's content check judged a displayed text risky.
	ContentRejected = class("content rejected by the content check")
	// EventLimit: a user's events or an event's participants are full.
	EventLimit = class("event limit reached")
	// MissingEventDates: startDate or endDate missing.
	MissingEventDates = class("missing event dates")
	// InvalidEventDates: startDate or endDate malformed or out of range.
	InvalidEventDates = class("invalid event dates")
	// MissingEventName, InvalidEventName: the event's name.
	MissingEventName = class("missing event name")
	InvalidEventName = class("invalid event name")
	// InvalidDailyGoal, InvalidDailyCap, InvalidGoalDays, InvalidTeams: the
	// event's settings.
	InvalidDailyGoal = class("invalid dailyGoal")
	InvalidDailyCap  = class("invalid dailyCap")
	InvalidGoalDays  = class("invalid goalDays")
	InvalidTeams     = class("invalid teams")
	// MissingTeam, InvalidTeam: a join's teamId.
	MissingTeam = class("missing teamId")
	InvalidTeam = class("invalid teamId")
	// MissingJoinCode: a join without a joinCode.
	MissingJoinCode = class("missing joinCode")
	// InvalidExportFormat: an export format other than csv or xlsx.
	InvalidExportFormat = class("invalid export format")
	// ExportTooLarge: the export would not fit in one function answer.
	ExportTooLarge = class("export too large")
)
