//! The life cycle of a need, in one place: its statuses, their labels, and the moves allowed
//! between them. Every change of a need's status goes through a conditional update on the
//! statuses a move may start from (`services::needs::move_needs`), so that a race loses cleanly
//! and nothing bends the path.
//!
//! ```text
//! draft ──► submitted ──► pooled ──► tendered ──► awarded
//!   │          │  ▲                      │
//!   │          │  └──── unsuccessful ◄───┘
//!   ▼          ▼            │
//! withdrawn ◄──┴────────────┘
//! ```
//!
//! A pooled need is locked: it belongs to a tender its members are approving, whose values and
//! procedure were computed with it; a withdrawn need never comes back.

pub use super::life_cycles::NeedStatus;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_the_path_only_goes_forward() {
        for status in NeedStatus::ALL {
            assert_eq!(NeedStatus::parse(status.code()), Some(status));
            assert!(!status.can_move_to(status), "{status:?} to itself");
        }
        assert_eq!(NeedStatus::parse("perdu"), None);
        // Nothing leaves withdrawn or awarded; nothing but approval leaves pooled.
        for next in NeedStatus::ALL {
            assert!(!NeedStatus::Withdrawn.can_move_to(next));
            assert!(!NeedStatus::Awarded.can_move_to(next));
            assert_eq!(
                NeedStatus::Pooled.can_move_to(next),
                next == NeedStatus::Tendered
            );
        }
        assert_eq!(
            NeedStatus::predecessors(NeedStatus::Submitted),
            [NeedStatus::Draft, NeedStatus::Unsuccessful]
        );
    }
}
