//! Where a handler notes what its call was about (request id, acting officer, resource names), from
//! its request and from its answer, for the call's audit record.

use std::{
    marker::PhantomData,
    sync::{Arc, Mutex, OnceLock},
};

use super::{Facts, is_resource_name};

/// Notes a response's facts from its encoding: how a mutation's record, written inside its transaction
/// before the handler has its answer in hand, learns what the answer names.
type ResponseFacts = fn(&[u8], &AuditNote);

#[derive(Debug, Default)]
struct Shared {
    facts: Mutex<Facts>,
    response_facts: OnceLock<ResponseFacts>,
}

/// Where a handler notes what its call was about. Taken from the request with [`AuditNote::of`];
/// a request that reached no [`AuditLayer`](super::AuditLayer) (an unrecorded RPC) gives a note that
/// keeps nothing.
#[derive(Debug, Clone, Default)]
pub struct AuditNote(Option<Arc<Shared>>);

impl AuditNote {
    pub(super) fn fresh() -> Self {
        Self(Some(Arc::default()))
    }

    /// A note holding `facts`, apart from any call's.
    pub(super) fn holding(facts: Facts) -> Self {
        Self(Some(Arc::new(Shared { facts: Mutex::new(facts), response_facts: OnceLock::new() })))
    }

    /// The note the audit layer gave `request`.
    pub fn of<T>(request: &tonic::Request<T>) -> Self {
        request.extensions().get::<Self>().cloned().unwrap_or_default()
    }

    fn with(&self, change: impl FnOnce(&mut Facts)) {
        if let Some(shared) = &self.0 {
            // A poisoned note still holds whole strings.
            change(&mut shared.facts.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        }
    }

    /// The call's `request_id`.
    pub fn request_id(&self, request_id: &str) {
        self.with(|facts| facts.request_id = request_id.to_owned());
    }

    /// The officer the request names as acting, by staff code.
    pub fn actor(&self, actor_id: &str) {
        self.with(|facts| facts.actor_id = actor_id.to_owned());
    }

    /// A resource the call concerns, by resource name (`dossiers/000.00.12.H26-250301-0001`). Only
    /// names are kept: anything that does not look like one (spaces, letters outside ASCII, no
    /// collection) is dropped, so a caller's mistake cannot carry personal data into the trail.
    pub fn subject(&self, name: &str) {
        if !is_resource_name(name) {
            return;
        }
        self.with(|facts| {
            if !facts.subjects.iter().any(|subject| subject == name) {
                facts.subjects.push(name.to_owned());
            }
        });
    }

    /// What the note holds now, left in place.
    pub(super) fn snapshot(&self) -> Facts {
        self.0
            .as_ref()
            .map(|shared| shared.facts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone())
            .unwrap_or_default()
    }

    /// What the note holds, plus what the encoded `response` names: the facts of a mutation's record
    /// as its transaction writes it. The note itself is left as it is, so that a transaction that
    /// rolls back leaves no name of what it did not make in the record of the failed call.
    pub(super) fn with_response(&self, response: &[u8]) -> Facts {
        let scratch = Self::holding(self.snapshot());
        if let Some(note_response) = self.0.as_ref().and_then(|shared| shared.response_facts.get()) {
            note_response(response, &scratch);
        }
        scratch.snapshot()
    }
}

/// What a request or a response says about its call: its request id, its acting officer, the
/// resources it names. Each service implements it for the messages of its recorded RPCs, with a type
/// of its own as `Service` (the messages are the contract crate's, the trait the chassis's: the
/// service's own type is what lets the service implement one for the other).
pub trait AuditFacts<Service> {
    /// Notes the message's facts in `note`.
    fn note(&self, note: &AuditNote);
}

/// The note of one call whose answer is a `Response`, with what its request says already in it.
pub struct CallNote<Service, Response> {
    note: AuditNote,
    answer: PhantomData<fn(Service, Response)>,
}

impl<Service, Response: AuditFacts<Service>> CallNote<Service, Response> {
    /// Notes what `message` says about the call and hands it back: `note.answered(dossier)` on the way
    /// out of a handler.
    pub fn answered(&self, message: Response) -> Response {
        message.note(&self.note);
        message
    }

    /// A resource the call concerns that neither its request nor its answer names.
    pub fn subject(&self, name: &str) {
        self.note.subject(name);
    }
}

/// The note of `request`, with what the request itself says already in it. The answer's type is
/// what the handler later passes to [`CallNote::answered`]: a mutation's transaction, which has the
/// answer only encoded, reads its facts through it.
pub fn noted<Service, Request, Response>(request: &tonic::Request<Request>) -> CallNote<Service, Response>
where
    Request: AuditFacts<Service>,
    Response: AuditFacts<Service> + prost::Message + Default,
{
    let note = AuditNote::of(request);
    request.get_ref().note(&note);
    if let Some(shared) = &note.0 {
        // The layer gives each call a note of its own: nothing set it before.
        let _ = shared.response_facts.set(decode_and_note::<Service, Response>);
    }
    CallNote { note, answer: PhantomData }
}

fn decode_and_note<Service, Response: AuditFacts<Service> + prost::Message + Default>(
    response: &[u8],
    note: &AuditNote,
) {
    // An encoding that is not this answer's names nothing; the request's facts stand.
    if let Ok(message) = Response::decode(response) {
        message.note(note);
    }
}
