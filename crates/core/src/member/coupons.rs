//! A member's coupons: issued, redeemed by a visit, given back by the visit's refund in full;
//! and the packages of free sessions granted (price zero).

use serde::Serialize;
use uuid::Uuid;

use crate::command::PaidFrom;
use crate::event::coupons::{CouponIssued, CouponReturn, CouponUse, PackageGranted};
use crate::event::Event;
use crate::time::Timestamp;

use super::{MemberState, Package, PackageStatus};

/// A coupon the member was issued, as read: its terms, and the visit that redeemed it.
///
/// In JSON its terms' fields sit beside `used_by`; in a binary format (a checkpoint) it is
/// the pair `(terms, used_by)`, since serde's flattening does not carry the format's kind
/// through (amounts and times would be written as numbers and read back as text).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Coupon {
    /// Its terms, as issued (its id is `terms.coupon`).
    pub terms: CouponIssued,
    /// The consumption that redeemed it; `None` while it is open.
    pub used_by: Option<Uuid>,
}

/// The JSON form of a [`Coupon`], written.
#[derive(Serialize)]
struct FlatRef<'a> {
    #[serde(flatten)]
    terms: &'a CouponIssued,
    used_by: &'a Option<Uuid>,
}

/// The JSON form of a [`Coupon`], read.
#[derive(serde::Deserialize)]
struct Flat {
    #[serde(flatten)]
    terms: CouponIssued,
    used_by: Option<Uuid>,
}

impl Serialize for Coupon {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            FlatRef {
                terms: &self.terms,
                used_by: &self.used_by,
            }
            .serialize(s)
        } else {
            (&self.terms, &self.used_by).serialize(s)
        }
    }
}

impl<'de> serde::Deserialize<'de> for Coupon {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Coupon, D::Error> {
        let (terms, used_by) = if d.is_human_readable() {
            let f = Flat::deserialize(d)?;
            (f.terms, f.used_by)
        } else {
            <(CouponIssued, Option<Uuid>)>::deserialize(d)?
        };
        Ok(Coupon { terms, used_by })
    }
}

impl Coupon {
    /// Whether a visit at `at` may redeem it: not used, not expired.
    pub fn is_open_at(&self, at: Timestamp) -> bool {
        self.used_by.is_none() && self.terms.expires_at > at
    }
}

impl MemberState {
    /// Every coupon the member was issued, by id.
    pub fn coupon(&self, id: &Uuid) -> Option<&Coupon> {
        self.rare
            .as_ref()
            .and_then(|r| r.coupons.get(id))
            .map(|c| &**c)
    }

    /// The coupons not yet redeemed (expired ones included, until a visit or a view leaves
    /// them out by time), by id.
    pub fn unused_coupons(&self) -> Vec<Coupon> {
        self.rare.as_ref().map_or_else(Vec::new, |r| {
            r.coupons
                .values()
                .filter(|c| c.used_by.is_none())
                .map(|c| (**c).clone())
                .collect()
        })
    }

    /// How many coupons the member holds unused (the bound on issuing more).
    pub fn unused_coupon_count(&self) -> usize {
        self.rare.as_ref().map_or(0, |r| {
            r.coupons.values().filter(|c| c.used_by.is_none()).count()
        })
    }

    pub(super) fn fold_coupon_issued(
        &mut self,
        event: &Event,
        b: &CouponIssued,
    ) -> Result<(), String> {
        if b.coupon != event.command || self.coupon(&b.coupon).is_some() {
            return Err(format!(
                "coupon {} is not a new coupon of this command",
                b.coupon
            ));
        }
        if b.expires_at <= event.at {
            return Err(format!("coupon {} expires before it is issued", b.coupon));
        }
        self.rare_mut().coupons.insert(
            b.coupon,
            Box::new(Coupon {
                terms: b.clone(),
                used_by: None,
            }),
        );
        Ok(())
    }

    /// A visit redeems a coupon: open at the visit's time, taking something off.
    pub(super) fn use_coupon(&mut self, event: &Event, u: &CouponUse) -> Result<(), String> {
        match self.coupon(&u.coupon) {
            Some(c) if c.is_open_at(event.at) && u.discount.is_positive() => {}
            _ => return Err(format!("coupon {} is not open to redeem", u.coupon)),
        }
        let c = self.rare_mut().coupons.get_mut(&u.coupon).expect("checked");
        c.used_by = Some(event.command);
        Ok(())
    }

    /// A refund in full gives a visit's coupon back (unless it had expired).
    pub(super) fn return_coupon(
        &mut self,
        consumption: Uuid,
        r: &CouponReturn,
    ) -> Result<(), String> {
        match self.coupon(&r.coupon) {
            Some(c) if c.used_by == Some(consumption) => {}
            _ => {
                return Err(format!(
                    "coupon {} was not redeemed by {consumption}",
                    r.coupon
                ))
            }
        }
        if r.restored {
            let c = self.rare_mut().coupons.get_mut(&r.coupon).expect("checked");
            c.used_by = None;
        }
        Ok(())
    }

    /// A package of free sessions: price zero, paid by nobody, at the granting store.
    pub(super) fn fold_package_granted(
        &mut self,
        event: &Event,
        b: &PackageGranted,
    ) -> Result<(), String> {
        if b.package != event.command || self.packages().contains_key(&b.package) {
            return Err(format!(
                "package {} is not its grant command's id, or is granted twice",
                b.package
            ));
        }
        if b.sessions == 0 || b.sessions > crate::command::SESSIONS_MAX {
            return Err("a granted package holds 1 to SESSIONS_MAX sessions".into());
        }
        if b.expires_at.is_some_and(|t| t <= event.at) {
            return Err("the package expires before it is granted".into());
        }
        let zero = crate::money::Money::ZERO;
        self.packages_mut().insert(
            b.package,
            Box::new(Package {
                package: b.package,
                service: b.service.clone(),
                origin_store: event.store.clone(),
                paid_from: PaidFrom::Cash,
                sessions: b.sessions,
                sessions_left: b.sessions,
                session_price: zero,
                price: zero,
                bonus_paid: zero,
                principal_left: zero,
                bonus_left: zero,
                expires_at: b.expires_at,
                bonus_expires_at: None,
                status: PackageStatus::Open,
                bonus_counted: zero,
                external: None,
            }),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::coupons::CouponKind;
    use crate::money::Money;

    fn coupon() -> Coupon {
        Coupon {
            terms: CouponIssued {
                amount: Some(Money::from_cents(20_00)),
                cap: None,
                coupon: Uuid::from_u128(7),
                expires_at: "2026-03-01T00:00:00Z".parse().unwrap(),
                kind: CouponKind::Amount,
                percent: None,
                reason: "新人礼券".into(),
                threshold: None,
            },
            used_by: Some(Uuid::from_u128(9)),
        }
    }

    #[test]
    fn json_sets_the_terms_beside_used_by() {
        let v = serde_json::to_value(coupon()).unwrap();
        assert_eq!(v["amount"], "20.00");
        assert_eq!(v["expires_at"], "2026-03-01T00:00:00Z");
        assert_eq!(v["used_by"], "00000000-0000-0000-0000-000000000009");
        let back: Coupon = serde_json::from_value(v).unwrap();
        assert_eq!(back, coupon());
    }

    #[test]
    fn cbor_reads_back_the_pair_with_whole_cents() {
        let mut bytes = Vec::new();
        ciborium::into_writer(&coupon(), &mut bytes).unwrap();
        let back: Coupon = ciborium::from_reader(bytes.as_slice()).unwrap();
        assert_eq!(back, coupon());
    }
}
