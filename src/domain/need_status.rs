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

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    Draft,
    Submitted,
    Pooled,
    Tendered,
    Awarded,
    Withdrawn,
    Unsuccessful,
}

impl NeedStatus {
    pub const ALL: [NeedStatus; 7] = [
        NeedStatus::Draft,
        NeedStatus::Submitted,
        NeedStatus::Pooled,
        NeedStatus::Tendered,
        NeedStatus::Awarded,
        NeedStatus::Withdrawn,
        NeedStatus::Unsuccessful,
    ];

    /// The code stored in `needs.status` (the migrations' CHECK lists the same).
    pub fn code(self) -> &'static str {
        match self {
            NeedStatus::Draft => "draft",
            NeedStatus::Submitted => "submitted",
            NeedStatus::Pooled => "pooled",
            NeedStatus::Tendered => "tendered",
            NeedStatus::Awarded => "awarded",
            NeedStatus::Withdrawn => "withdrawn",
            NeedStatus::Unsuccessful => "unsuccessful",
        }
    }

    pub fn parse(code: &str) -> Option<NeedStatus> {
        NeedStatus::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_fr(self) -> &'static str {
        match self {
            NeedStatus::Draft => "brouillon",
            NeedStatus::Submitted => "soumis",
            NeedStatus::Pooled => "mutualisé",
            NeedStatus::Tendered => "en consultation",
            NeedStatus::Awarded => "attribué",
            NeedStatus::Withdrawn => "retiré",
            NeedStatus::Unsuccessful => "infructueux",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            NeedStatus::Draft => "draft",
            NeedStatus::Submitted => "submitted",
            NeedStatus::Pooled => "pooled",
            NeedStatus::Tendered => "in a tender",
            NeedStatus::Awarded => "awarded",
            NeedStatus::Withdrawn => "withdrawn",
            NeedStatus::Unsuccessful => "unsuccessful",
        }
    }

    /// Whether a need may move from `self` to `next`.
    pub fn can_move_to(self, next: NeedStatus) -> bool {
        use NeedStatus::*;
        matches!(
            (self, next),
            (Draft, Submitted)
                | (Draft, Withdrawn)
                | (Submitted, Pooled)
                | (Submitted, Withdrawn)
                | (Pooled, Tendered)
                | (Tendered, Awarded)
                | (Tendered, Unsuccessful)
                | (Unsuccessful, Submitted)
                | (Unsuccessful, Withdrawn)
        )
    }

    /// The statuses a need may come to `next` from.
    pub fn predecessors(next: NeedStatus) -> Vec<NeedStatus> {
        NeedStatus::ALL
            .into_iter()
            .filter(|s| s.can_move_to(next))
            .collect()
    }

    /// Whether its buyer may still change the need's content (draft, submitted and not yet in
    /// an accepted proposal, or back from an unsuccessful lot).
    pub fn editable(self) -> bool {
        matches!(
            self,
            NeedStatus::Draft | NeedStatus::Submitted | NeedStatus::Unsuccessful
        )
    }
}

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
