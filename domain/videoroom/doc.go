// Package videoroom is the video room domain: the Room aggregate (a live
// video session for a ticket and who is in it, event-sourced) and the codec
// that stores its events as JSON objects.
//
// Media and signalling are not Eventdesk's: a room here is the record of a
// session (Fynd's video room, Twilio-style) whose access tokens the API
// issues and whose joins and leaves are events, so that the realtime layer
// can push them and an audit trail can show them.
//
// # Writing
//
// One stream per room and tenant: StreamType "video_room", stream id the
// room's unique name (the caller derives it, e.g. from the ticket id).
//
//	history, version := load(videoroom.StreamType, name) // decoded with Decode; empty for a new room
//	r := videoroom.Rehydrate(history, version)
//	if err := r.Open(videoroom.OpenRoom{By: me, Source: domain.SourceAPI, UniqueName: name, TicketID: id}, now); err != nil {
//		return err // a *domain.Error; errors.Is(err, videoroom.ErrNameTaken)
//	}
//	appendAt(videoroom.StreamType, name, r.Version(), r.Pending()) // encoded with Encode
//
// Before issuing an access token for an identity, the API asks the loaded
// room whether it may join (Room.CanJoin); joining itself is a command:
//
//	r := videoroom.Rehydrate(load(videoroom.StreamType, name))
//	err := r.Join(videoroom.JoinRoom{By: me, Source: domain.SourceAPI, Identity: "cara@example.com"}, now)
//
// # Event types
//
// These strings are persisted; never rename one. All are at schema version
// 1; to change a shape, bump its version with an upcaster in codec.go (see
// "Event versions" in package domain).
//
//	video_room.opened              RoomOpened
//	video_room.participant_joined  ParticipantJoined
//	video_room.participant_left    ParticipantLeft
//	video_room.closed              RoomClosed
//
// # Decisions
//
//   - A unique name names one open room at a time, as in Twilio: opening an
//     open room for the same ticket records nothing (so a retried or
//     repeated open is harmless), for another ticket fails with
//     ErrNameTaken; opening a closed room starts a new session with no
//     participants.
//   - Joining while connected records nothing (the user recorded at the
//     first join stays). Leaving needs the identity to be connected: an
//     identity that never joined, or has left, gets ErrParticipantNotFound
//     (NotFound, so DELETE …/participants/{identity} answers 404). On a
//     closed room both fail with ErrClosed; closing a closed room fails
//     with ErrAlreadyClosed.
//   - Closing disconnects everyone still connected; RoomClosed lists them.
//   - Snapshot.Participants keeps everyone who joined since the room last
//     opened, with their status; Snapshot.Connected is the current
//     participants, which the participants endpoints list (as Twilio's
//     participants API lists connected ones by default).
//   - At most MaxParticipants are connected at once (Twilio's group-room
//     limit); a further join fails with ErrRoomFull.
package videoroom
