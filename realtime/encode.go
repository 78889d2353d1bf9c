package realtime

import (
	"encoding/json"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
)

// encodedItems is how many events' encodings an encoder keeps: enough for
// every subscription of a burst to find its event's.
const encodedItems = 8192

// encoder turns events into event messages. It encodes an event's item
// (feed.ItemOf, the upcast and the JSON) once for all the subscriptions
// that push it — a ticket's ten watchers share one encoding — and only
// frames it per topic. Safe for concurrent use.
type encoder struct {
	items *lru.Cache[string, []byte] // by event id (unique in the log)
}

func newEncoder() *encoder {
	items, _ := lru.New[string, []byte](encodedItems) // errs only on a size < 1
	return &encoder{items: items}
}

// message returns the event message of e on topic:
// {"type":"event","topic":T,"position":P,"event":{…}}, byte for byte
// what encoding/json makes of it.
func (en *encoder) message(topic string, e eventstore.Event) ([]byte, error) {
	item, ok := en.items.Get(e.ID)
	if !ok {
		it, err := feed.ItemOf(e)
		if err != nil {
			return nil, err
		}
		if item, err = json.Marshal(it); err != nil {
			return nil, err
		}
		en.items.Add(e.ID, item)
	}
	t, err := json.Marshal(topic)
	if err != nil {
		return nil, err
	}
	p, err := json.Marshal(e.Position)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(`{"type":"event","topic":,"position":,"event":}`)+len(t)+len(p)+len(item))
	b = append(b, `{"type":"event","topic":`...)
	b = append(b, t...)
	b = append(b, `,"position":`...)
	b = append(b, p...)
	b = append(b, `,"event":`...)
	b = append(b, item...)
	return append(b, '}'), nil
}
