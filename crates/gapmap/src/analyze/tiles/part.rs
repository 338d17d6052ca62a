//! One tile's results ([`TilePart`]), and how they travel between processes: a compact binary
//! form, little-endian, every length checked against the bytes left when read back.

use gapmap_core::fibre::FibreReach;
use gapmap_core::mobile::MobileCover;
use gapmap_core::radio::predict::PremiseRadio;
use gapmap_core::summary::{Outcome, Tally};
use serde::{Deserialize, Serialize};

use super::TileKey;
use crate::error::{Error, Result};

/// What one tile computed, for its own premises (see the module `tiles`).
#[derive(Debug, Clone, PartialEq)]
pub struct TilePart {
    /// The tile.
    pub key: TileKey,
    /// Its own premises (indices in input order), ascending.
    pub own: Vec<u32>,
    /// Per own premise: its settlement (`None`: rural).
    pub settlement: Vec<Option<u32>>,
    /// Per own premise: fibre reach (`None` without fibre).
    pub fibre: Option<Vec<FibreReach>>,
    /// Per own premise: the operators with 4G and 5G there.
    pub mobile: Vec<MobileCover>,
    /// Per own premise: the cover of the polygons alone (with cell sites; else empty).
    pub mobile_polygons: Vec<MobileCover>,
    /// Per own premise: what the cell sites deliver (with cell sites).
    pub radio: Option<Vec<PremiseRadio>>,
    /// Per own premise: what it has.
    pub outcomes: Vec<Outcome>,
    /// The tallies of its own premises per settlement, then the rural row (no cluster counts).
    pub tallies: Vec<Tally>,
    /// Its gap clusters that hold an own premise, as premise indices (halo premises too).
    pub clusters: Vec<Vec<u32>>,
    /// How much work it was and how long it took.
    pub info: TileInfo,
}

/// How much work a tile had and how long it took, for the run report (`run.json`'s `tiles`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileInfo {
    /// The tile.
    #[serde(flatten)]
    pub key: TileKey,
    /// The premises it owns.
    pub premises: u64,
    /// The premises of its halo.
    pub halo_premises: u64,
    /// Its computation's wall time, in seconds.
    pub seconds: f64,
    /// Where it ran (e.g. a Ray node), when the runner says.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub worker: String,
}

/// The tiles of a partitioned run, for `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TilesRecord {
    /// The side of a tile, metres.
    pub tile_size_m: f64,
    /// How far around its square a tile's halo reaches, metres.
    pub halo_m: f64,
    /// Every tile, in (row, column) order.
    pub tiles: Vec<TileInfo>,
}

/// The first bytes of a tile part.
const MAGIC: &[u8] = b"gapmap tile part 1\n";
const FIBRE: u8 = 1;
const RADIO: u8 = 2;
const NONE: u32 = u32::MAX;

impl TilePart {
    /// The part as bytes ([`TilePart::from_bytes`] reads them back).
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.own.len();
        let mut w = Vec::with_capacity(64 + n * 80);
        w.extend_from_slice(MAGIC);
        put_i64(&mut w, self.key.col);
        put_i64(&mut w, self.key.row);
        put_u64(&mut w, self.info.premises);
        put_u64(&mut w, self.info.halo_premises);
        put_f64(&mut w, self.info.seconds);
        put_u32(&mut w, self.info.worker.len() as u32);
        w.extend_from_slice(self.info.worker.as_bytes());
        put_u32(&mut w, n as u32);
        let flags = if self.fibre.is_some() { FIBRE } else { 0 }
            | if self.radio.is_some() { RADIO } else { 0 };
        w.push(flags);
        for &i in &self.own {
            put_u32(&mut w, i);
        }
        for s in &self.settlement {
            put_u32(&mut w, s.unwrap_or(NONE));
        }
        if let Some(f) = &self.fibre {
            for r in f {
                put_f64(&mut w, r.distance_m);
                put_u32(&mut w, r.networks);
            }
        }
        for m in self.mobile.iter().chain(&self.mobile_polygons) {
            put_u64(&mut w, m.operators_4g);
            put_u64(&mut w, m.operators_5g);
        }
        if let Some(radio) = &self.radio {
            for r in radio {
                put_radio(&mut w, r);
            }
        }
        for o in &self.outcomes {
            put_u32(&mut w, o.households);
            put_u32(&mut w, o.workplaces);
            w.push(u8::from(o.fibre_passed));
            put_u16(&mut w, o.fibre_networks);
            put_u16(&mut w, o.aid_networks);
            w.push(o.mobile_4g_operators);
            w.push(o.mobile_5g_operators);
            w.push(u8::from(o.at_100_mbps));
        }
        put_u32(&mut w, self.tallies.len() as u32);
        for t in &self.tallies {
            for v in t.to_array() {
                put_u64(&mut w, v);
            }
        }
        put_u32(&mut w, self.clusters.len() as u32);
        for c in &self.clusters {
            put_u32(&mut w, c.len() as u32);
            for &i in c {
                put_u32(&mut w, i);
            }
        }
        w
    }

    /// The part [`TilePart::to_bytes`] wrote. Bytes that are not one (cut short, too long, of
    /// another version) are an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<TilePart> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(corrupt("it does not start as a tile part of this version"));
        }
        let key = TileKey {
            col: r.i64()?,
            row: r.i64()?,
        };
        let (premises, halo_premises, seconds) = (r.u64()?, r.u64()?, r.f64()?);
        let len = r.count(1)?;
        let worker = String::from_utf8(r.take(len)?.to_vec())
            .map_err(|_| corrupt("its worker name is not UTF-8"))?;
        let n = r.count(4)?;
        let flags = r.u8()?;
        let own = (0..n).map(|_| r.u32()).collect::<Result<Vec<_>>>()?;
        let settlement = (0..n)
            .map(|_| r.u32().map(|s| (s != NONE).then_some(s)))
            .collect::<Result<Vec<_>>>()?;
        let fibre = if flags & FIBRE != 0 {
            Some(
                (0..n)
                    .map(|_| {
                        Ok(FibreReach {
                            distance_m: r.f64()?,
                            networks: r.u32()?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            )
        } else {
            None
        };
        let mut cover = |count: usize| {
            (0..count)
                .map(|_| {
                    Ok(MobileCover {
                        operators_4g: r.u64()?,
                        operators_5g: r.u64()?,
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        let mobile = cover(n)?;
        let with_radio = flags & RADIO != 0;
        let mobile_polygons = cover(if with_radio { n } else { 0 })?;
        let radio = if with_radio {
            Some((0..n).map(|_| r.radio()).collect::<Result<Vec<_>>>()?)
        } else {
            None
        };
        let outcomes = (0..n)
            .map(|_| {
                Ok(Outcome {
                    households: r.u32()?,
                    workplaces: r.u32()?,
                    fibre_passed: r.u8()? != 0,
                    fibre_networks: r.u16()?,
                    aid_networks: r.u16()?,
                    mobile_4g_operators: r.u8()?,
                    mobile_5g_operators: r.u8()?,
                    at_100_mbps: r.u8()? != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let count = r.count(8 * Tally::LEN)?;
        let tallies = (0..count)
            .map(|_| {
                let mut a = [0u64; Tally::LEN];
                for v in &mut a {
                    *v = r.u64()?;
                }
                Ok(Tally::from_array(a))
            })
            .collect::<Result<Vec<_>>>()?;
        let count = r.count(4)?;
        let clusters = (0..count)
            .map(|_| {
                let len = r.count(4)?;
                (0..len).map(|_| r.u32()).collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        if r.at != bytes.len() {
            return Err(corrupt("bytes are left over after it"));
        }
        Ok(TilePart {
            key,
            own,
            settlement,
            fibre,
            mobile,
            mobile_polygons,
            radio,
            outcomes,
            tallies,
            clusters,
            info: TileInfo {
                key,
                premises,
                halo_premises,
                seconds,
                worker,
            },
        })
    }

    /// Checks that the part fits its tile: the premises it owns are `own`, every column has one
    /// value per premise (fibre and cell-site columns as the run has them), `tallies` tallies,
    /// and its clusters name premises below `n`.
    pub(super) fn check(
        &self,
        own: &[u32],
        has_fibre: bool,
        has_sites: bool,
        tallies: usize,
        n: usize,
    ) -> Result<()> {
        let why = |w: &str| Err(super::part_error(self.key, w));
        let k = own.len();
        if self.own != own {
            return why("its premises are not the tile's");
        }
        if self.settlement.len() != k
            || self.mobile.len() != k
            || self.outcomes.len() != k
            || self.fibre.as_ref().map(Vec::len) != has_fibre.then_some(k)
            || self.radio.as_ref().map(Vec::len) != has_sites.then_some(k)
            || self.mobile_polygons.len() != if has_sites { k } else { 0 }
        {
            return why("a column does not have one value per premise");
        }
        if self.tallies.len() != tallies {
            return why("it does not have one tally per settlement");
        }
        if self
            .settlement
            .iter()
            .flatten()
            .any(|&s| s as usize + 1 >= tallies)
        {
            return why("a premise is in a settlement that does not exist");
        }
        if self.clusters.iter().flatten().any(|&i| i as usize >= n) {
            return why("a gap cluster names a premise that does not exist");
        }
        Ok(())
    }
}

/// Bytes that are not a tile part.
fn corrupt(why: &str) -> Error {
    Error::Internal(format!("a tile's part cannot be read: {why}"))
}

fn put_u16(w: &mut Vec<u8>, v: u16) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_i64(w: &mut Vec<u8>, v: i64) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_f64(w: &mut Vec<u8>, v: f64) {
    w.extend_from_slice(&v.to_le_bytes());
}
fn put_radio(w: &mut Vec<u8>, r: &PremiseRadio) {
    let PremiseRadio {
        best_4g_site,
        best_4g_rsrp_dbm,
        best_5g_site,
        best_5g_rsrp_dbm,
        sites_4g,
        sites_5g,
        operators_4g,
        operators_5g,
        only_4g_site,
        extrapolated,
        links_on_dem,
        links_off_dem,
    } = *r;
    put_u32(w, best_4g_site);
    w.extend_from_slice(&best_4g_rsrp_dbm.to_le_bytes());
    put_u32(w, best_5g_site);
    w.extend_from_slice(&best_5g_rsrp_dbm.to_le_bytes());
    put_u16(w, sites_4g);
    put_u16(w, sites_5g);
    put_u64(w, operators_4g);
    put_u64(w, operators_5g);
    put_u32(w, only_4g_site);
    w.push(u8::from(extrapolated));
    put_u16(w, links_on_dem);
    put_u16(w, links_off_dem);
}

/// Reads a tile part's bytes in order.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        let end = self
            .at
            .checked_add(len)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| corrupt("it is cut short"))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
    /// A count of items of at least `size` bytes each, no more than the bytes left can hold.
    fn count(&mut self, size: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(size) > self.b.len() - self.at {
            return Err(corrupt("a length is longer than the bytes left"));
        }
        Ok(n)
    }
    fn radio(&mut self) -> Result<PremiseRadio> {
        Ok(PremiseRadio {
            best_4g_site: self.u32()?,
            best_4g_rsrp_dbm: self.f32()?,
            best_5g_site: self.u32()?,
            best_5g_rsrp_dbm: self.f32()?,
            sites_4g: self.u16()?,
            sites_5g: self.u16()?,
            operators_4g: self.u64()?,
            operators_5g: self.u64()?,
            only_4g_site: self.u32()?,
            extrapolated: self.u8()? != 0,
            links_on_dem: self.u16()?,
            links_off_dem: self.u16()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(with_fibre: bool, with_radio: bool) -> TilePart {
        let n = 3;
        let t = Tally {
            premises: 3,
            unserved: 1,
            ..Tally::default()
        };
        let radio = PremiseRadio {
            best_4g_site: 7,
            best_4g_rsrp_dbm: -101.5,
            operators_4g: 0b101,
            extrapolated: true,
            links_off_dem: 2,
            ..PremiseRadio::NONE
        };
        let key = TileKey { col: -3, row: 127 };
        TilePart {
            key,
            own: vec![4, 9, 11],
            settlement: vec![Some(0), None, Some(1)],
            fibre: with_fibre.then(|| {
                vec![
                    FibreReach {
                        distance_m: 12.25,
                        networks: 2,
                    },
                    FibreReach::NONE,
                    FibreReach {
                        distance_m: f64::NAN,
                        networks: 0,
                    },
                ]
            }),
            mobile: vec![
                MobileCover {
                    operators_4g: 3,
                    operators_5g: 1,
                };
                n
            ],
            mobile_polygons: if with_radio {
                vec![MobileCover::default(); n]
            } else {
                Vec::new()
            },
            radio: with_radio.then(|| vec![radio; n]),
            outcomes: vec![
                Outcome {
                    households: 2,
                    workplaces: 1,
                    fibre_passed: true,
                    fibre_networks: 2,
                    aid_networks: 2,
                    mobile_4g_operators: 2,
                    mobile_5g_operators: 1,
                    at_100_mbps: true,
                };
                n
            ],
            tallies: vec![t, Tally::default(), t],
            clusters: vec![vec![4, 5], vec![9]],
            info: TileInfo {
                key,
                premises: 3,
                halo_premises: 1,
                seconds: 0.5,
                worker: "node-a".into(),
            },
        }
    }

    /// Equal but for NaN, which is compared by its bits.
    fn same(a: &TilePart, b: &TilePart) -> bool {
        let bits = |p: &TilePart| {
            p.fibre
                .as_ref()
                .map(|f| f.iter().map(|r| r.distance_m.to_bits()).collect::<Vec<_>>())
        };
        let plain = |p: &TilePart| TilePart {
            fibre: p.fibre.as_ref().map(|f| {
                f.iter()
                    .map(|r| FibreReach {
                        distance_m: 0.0,
                        ..*r
                    })
                    .collect()
            }),
            ..p.clone()
        };
        bits(a) == bits(b) && plain(a) == plain(b)
    }

    #[test]
    fn a_part_survives_its_bytes() {
        for (f, r) in [(true, true), (true, false), (false, true), (false, false)] {
            let p = part(f, r);
            let back = TilePart::from_bytes(&p.to_bytes());
            assert!(
                back.as_ref().is_ok_and(|b| same(&p, b)),
                "fibre {f}, radio {r}: {back:?}"
            );
        }
    }

    #[test]
    fn bytes_that_are_not_a_part_are_an_error() {
        let bytes = part(true, true).to_bytes();
        for cut in [0, 5, MAGIC.len() + 3, bytes.len() / 2, bytes.len() - 1] {
            let e = TilePart::from_bytes(&bytes[..cut]).map(|_| ()).unwrap_err();
            assert!(e.to_string().contains("cannot be read"), "{e}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(TilePart::from_bytes(&longer).is_err());
        // A count that claims more than the bytes hold is refused before anything is reserved.
        let mut huge = bytes.clone();
        let at = MAGIC.len() + 8 * 5 + 4 + "node-a".len();
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = TilePart::from_bytes(&huge).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("longer than the bytes left"), "{e}");
    }

    #[test]
    fn a_part_that_does_not_fit_its_tile_is_refused() {
        let p = part(true, false);
        assert!(p.check(&[4, 9, 11], true, false, 3, 12).is_ok());
        for (own, fibre, sites, tallies, n, why) in [
            (&[4u32, 9][..], true, false, 3, 12, "not the tile's"),
            (&[4, 9, 11], false, false, 3, 12, "one value per premise"),
            (&[4, 9, 11], true, true, 3, 12, "one value per premise"),
            (&[4, 9, 11], true, false, 2, 12, "one tally per settlement"),
            (&[4, 9, 11], true, false, 3, 9, "names a premise"),
        ] {
            let e = p.check(own, fibre, sites, tallies, n).unwrap_err();
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
    }
}
