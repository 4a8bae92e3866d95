package challenge

import (
	"context"

	"github.com/werun-sam/werun-sam/shared/fault"
)

// ForgetUser takes the member out of every event at an account's deletion:
// the events they organize are cancelled and purged (their items name the
// organizer), and they leave those they take part in, counted out. It runs
// in both passes of a deletion, before the erase, so a failure here is the
// deletion's and the second pass tries again.
func (s *Service) ForgetUser(ctx context.Context, memberID string) (err error) {
	defer fault.Classify(&err)
	cursor := ""
	for {
		refs, next, err := s.store.MemberEvents(ctx, memberID, cursor, ListPage)
		if err != nil {
			return err
		}
		for _, ref := range refs {
			e, found, err := s.store.Event(ctx, ref.EventID)
			if err != nil {
				return err
			}
			if !found {
				continue // cancelled: its purge is the organizer's, or done
			}
			if ref.Organizer {
				if _, err := s.store.CancelEvent(ctx, e.ID); err != nil {
					return err
				}
				if err := s.store.PurgeEvent(ctx, e, s.hide(e.End)); err != nil {
					return err
				}
				continue
			}
			if ref.Participant {
				if _, _, err := s.store.RemoveParticipant(ctx, e, memberID, s.hide(e.End), nil); err != nil {
					return err
				}
			}
		}
		if cursor = next; cursor == "" {
			return nil
		}
	}
}
