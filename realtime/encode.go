package realtime

import (
	"encoding/json"
	"strconv"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/eventdesk/eventdesk/eventstore"
	"github.com/eventdesk/eventdesk/eventstore/feed"
)

// encodedItems is how many events' encodings an encoder keeps: enough for
// every subscription of a burst to find its event's.
const encodedItems = 8192

// encoder turns events into event messages. It encodes an event's item
// (feed.ItemOf, the upcast and the JSON) once for all the subscriptions
// that push it — a ticket's ten watchers share one encoding — and frames
// it once per topic: the watchers of one topic (all of a ticket's, as a
// rule) share one message, which the writers only read. Safe for
// concurrent use.
type encoder struct {
	items *lru.Cache[string, *encoded] // by event id (unique in the log)
}

// encoded is an event's item and its last framed message.
type encoded struct {
	item []byte
	mu   sync.Mutex
	on   string // the topic (JSON) msg was framed for
	msg  []byte
}

func newEncoder() *encoder {
	items, _ := lru.New[string, *encoded](encodedItems) // errs only on a size < 1
	return &encoder{items: items}
}

// message returns the event message of e on a topic, given as its JSON
// string (topicJSON: json.Marshal of the topic, made once per
// subscription): {"type":"event","topic":T,"position":P,"event":{…}},
// byte for byte what encoding/json makes of it. The message may be shared
// with other subscriptions: it must not be modified.
func (en *encoder) message(topicJSON []byte, e *eventstore.Event) ([]byte, error) {
	enc, ok := en.items.Get(e.ID)
	if !ok {
		it, err := feed.ItemOf(*e)
		if err != nil {
			return nil, err
		}
		item, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
		enc = &encoded{item: item}
		if prev, found, _ := en.items.PeekOrAdd(e.ID, enc); found {
			enc = prev // another subscription encoded it meanwhile
		}
	}
	enc.mu.Lock()
	defer enc.mu.Unlock()
	if enc.msg != nil && enc.on == string(topicJSON) {
		return enc.msg, nil
	}
	enc.on, enc.msg = string(topicJSON), frame(topicJSON, e.Position, enc.item)
	return enc.msg, nil
}

// frame wraps an encoded item in its event message. The position, digits
// and a dash, needs no escaping.
func frame(topicJSON []byte, p eventstore.Position, item []byte) []byte {
	b := make([]byte, 0, len(`{"type":"event","topic":,"position":"-","event":}`)+len(topicJSON)+40+len(item))
	b = append(b, `{"type":"event","topic":`...)
	b = append(b, topicJSON...)
	b = append(b, `,"position":"`...)
	b = strconv.AppendUint(b, p.TxID, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, p.Seq, 10)
	b = append(b, `","event":`...)
	b = append(b, item...)
	return append(b, '}')
}
