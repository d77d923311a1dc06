//! The duplicate check's memory: the first source of every row key seen.

use rustc_hash::FxHashMap;

/// The first source of every (run, item, filter, sample) seen: one entry
/// per row ingested, so its key is packed into 64 bits when the ids fit
/// (runs < 1024, filters < 63, samples < 65536): 16 bytes an entry
/// instead of 24. Other keys go to a wide table.
#[derive(Default)]
pub(super) struct Seen {
    packed: FxHashMap<u64, u64>,
    wide: FxHashMap<(u32, u32, u32, u32), u64>,
}

impl Seen {
    fn pack((run, item, filter, sample): (u32, u32, u32, u32)) -> Option<u64> {
        let filter = filter.wrapping_add(1); // NONE -> 0
        (run < 1 << 10 && filter < 1 << 6 && sample < 1 << 16).then(|| {
            u64::from(run) << 54 | u64::from(filter) << 48 | u64::from(sample) << 32 | u64::from(item)
        })
    }

    pub(super) fn reserve(&mut self, rows: usize) {
        self.packed.reserve(rows);
    }

    pub(super) fn get(&self, key: (u32, u32, u32, u32)) -> Option<u64> {
        match Self::pack(key) {
            Some(k) => self.packed.get(&k).copied(),
            None => self.wide.get(&key).copied(),
        }
    }

    pub(super) fn insert(&mut self, key: (u32, u32, u32, u32), source: u64) {
        match Self::pack(key) {
            Some(k) => self.packed.insert(k, source),
            None => self.wide.insert(key, source),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn packed_keys_are_distinct_and_wide_keys_still_found() {
        let keys = [
            (0, 0, NONE_FILTER, 0),
            (0, 0, 0, 0),
            (1, 0, NONE_FILTER, 0),
            (0, 1, NONE_FILTER, 0),
            (0, 0, NONE_FILTER, 1),
            (1023, u32::MAX - 1, 61, 65535),
            // Too wide to pack: run, filter, sample.
            (1024, 0, 0, 0),
            (0, 0, 63, 0),
            (0, 0, 0, 1 << 16),
        ];
        let mut seen = Seen::default();
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(seen.get(k), None, "{k:?}");
            seen.insert(k, i as u64);
        }
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(seen.get(k), Some(i as u64), "{k:?}");
        }
        assert_eq!(seen.wide.len(), 3);
    }

    const NONE_FILTER: u32 = u32::MAX;
}
