//! What the rollups count: the dimensions of a rollup row, the names of its metrics (the fields of
//! `Counters`), the processing-time histogram, and the rates derived from a sum of counters.

use std::collections::BTreeMap;

/// The dimensions of a rollup row besides its day. Signatures know only their branch, receipts their
/// branch and procedure: the missing dimensions are empty (or 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dims {
    /// The branch's code.
    pub branch_code: String,
    /// The procedure's code; empty when not known.
    pub procedure_code: String,
    /// The implementation level (the proto enum's number); 0 when not known.
    pub level: i32,
    /// The channel (the proto enum's number); 0 when not known.
    pub channel: i32,
}

/// Every counter kept per day and dimensions, by the name of its `Counters` field.
pub mod metric {
    pub const RECEIVED: &str = "received";
    pub const RECEIVED_ONLINE: &str = "received_online";
    pub const ACCEPTED: &str = "accepted";
    pub const REFUSED: &str = "refused";
    pub const RESOLVED_ON_TIME: &str = "resolved_on_time";
    pub const RESOLVED_LATE: &str = "resolved_late";
    pub const RETURNED: &str = "returned";
    pub const WITHDRAWN: &str = "withdrawn";
    pub const STOPPED: &str = "stopped";
    pub const SUPPLEMENT_REQUESTS: &str = "supplement_requests";
    pub const APOLOGIES: &str = "apologies";
    pub const FEE_RECEIPTS_ISSUED: &str = "fee_receipts_issued";
    pub const FEE_RECEIPTS_CANCELLED: &str = "fee_receipts_cancelled";
    pub const FEE_RECEIPTS_PAID_ONLINE: &str = "fee_receipts_paid_online";
    pub const AMOUNT_COLLECTED: &str = "amount_collected";
    pub const ACKNOWLEDGEMENT_SLIPS_ISSUED: &str = "acknowledgement_slips_issued";
    pub const SIGNATURES: &str = "signatures";
    pub const SEALS: &str = "seals";
    pub const RESOLVED_SIGNED_AND_SEALED: &str = "resolved_signed_and_sealed";
    pub const ELECTRONIC_RESULTS: &str = "electronic_results";
    pub const DIGITIZED_DOSSIERS: &str = "digitized_dossiers";
    pub const REUSING_DOSSIERS: &str = "reusing_dossiers";
    pub const REUSED_DOCUMENTS: &str = "reused_documents";
    pub const RATINGS_SATISFIED: &str = "ratings_satisfied";
    pub const RATINGS_NEUTRAL: &str = "ratings_neutral";
    pub const RATINGS_DISSATISFIED: &str = "ratings_dissatisfied";
    pub const COMPLAINTS: &str = "complaints";
    pub const SUGGESTIONS: &str = "suggestions";
    pub const COMPLAINED_OR_DISSATISFIED_DOSSIERS: &str = "complained_or_dissatisfied_dossiers";
    /// Receipts issued by intake's follow-ups, counted from intake's `FollowUpDone` with the dossier's
    /// dimensions.
    pub const DOSSIER_SLIPS_ISSUED: &str = "dossier_slips_issued";
    pub const DOSSIER_FEE_RECEIPTS_ISSUED: &str = "dossier_fee_receipts_issued";
    /// Dossiers whose processing ended, and the sum of their processing times in seconds.
    pub const PROCESSING_COUNT: &str = "processing_time_count";
    pub const PROCESSING_SECONDS: &str = "processing_time_seconds";
    /// The prefix of the histogram's buckets: `processing_time_bucket_00` ...
    pub const PROCESSING_BUCKET_PREFIX: &str = "processing_time_bucket_";
}

/// The upper bounds of the processing-time histogram, in seconds: 4 h, 1, 2, 3, 5, 7, 10, 15, 20, 30,
/// 45, 60 and 90 days, then one open bucket. Fixed, since rollups already stored are counted in them.
pub const HISTOGRAM_BOUNDS_SECONDS: [i64; 13] = {
    const DAY: i64 = 86_400;
    [
        4 * 3600,
        DAY,
        2 * DAY,
        3 * DAY,
        5 * DAY,
        7 * DAY,
        10 * DAY,
        15 * DAY,
        20 * DAY,
        30 * DAY,
        45 * DAY,
        60 * DAY,
        90 * DAY,
    ]
};

/// The number of histogram buckets: one per bound and the open one.
pub const HISTOGRAM_BUCKETS: usize = HISTOGRAM_BOUNDS_SECONDS.len() + 1;

/// The metric name of bucket `index`.
pub fn bucket_metric(index: usize) -> String {
    format!("{}{index:02}", metric::PROCESSING_BUCKET_PREFIX)
}

/// The bucket a processing time of `seconds` falls in.
pub fn bucket_of(seconds: i64) -> usize {
    HISTOGRAM_BOUNDS_SECONDS.iter().position(|bound| seconds <= *bound).unwrap_or(HISTOGRAM_BOUNDS_SECONDS.len())
}

/// Summed counters by metric name, plus the stock counters read at the time of the answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    /// Flow counters by metric name; a missing one is 0.
    pub flows: BTreeMap<String, i64>,
    /// Dossiers received in the period and still being handled now.
    pub in_processing_now: i64,
    /// Of those, past their appointment now.
    pub overdue_now: i64,
}

impl Totals {
    /// The flow counter `name`, 0 when absent.
    pub fn get(&self, name: &str) -> i64 {
        self.flows.get(name).copied().unwrap_or(0)
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Totals) {
        for (name, value) in &other.flows {
            *self.flows.entry(name.clone()).or_insert(0) += value;
        }
        self.in_processing_now += other.in_processing_now;
        self.overdue_now += other.overdue_now;
    }

    /// Dossiers resolved, on time or late.
    pub fn resolved(&self) -> i64 {
        self.get(metric::RESOLVED_ON_TIME) + self.get(metric::RESOLVED_LATE)
    }

    /// The histogram's counts, bucket by bucket.
    pub fn histogram(&self) -> [i64; HISTOGRAM_BUCKETS] {
        std::array::from_fn(|index| self.get(&bucket_metric(index)))
    }

    /// The rates derived from the counters, as `Rates` defines them.
    pub fn rates(&self) -> Rates {
        let resolved = self.resolved();
        let received = self.get(metric::RECEIVED);
        let overdue_rate =
            percent(self.get(metric::RESOLVED_LATE) + self.overdue_now, resolved + self.in_processing_now);
        let complaint_rate = percent(self.get(metric::COMPLAINED_OR_DISSATISFIED_DOSSIERS), received);
        Rates {
            on_time_percent: percent(self.get(metric::RESOLVED_ON_TIME), resolved),
            online_submission_percent: percent(self.get(metric::RECEIVED_ONLINE), received),
            online_payment_percent: percent(
                self.get(metric::FEE_RECEIPTS_PAID_ONLINE),
                self.get(metric::FEE_RECEIPTS_ISSUED),
            ),
            digitized_percent: percent(self.get(metric::DIGITIZED_DOSSIERS), received),
            reuse_percent: percent(self.get(metric::REUSING_DOSSIERS), received),
            electronic_result_percent: percent(self.get(metric::ELECTRONIC_RESULTS), resolved),
            signed_and_sealed_percent: percent(self.get(metric::RESOLVED_SIGNED_AND_SEALED), resolved),
            satisfaction_percent: (100.0 - overdue_rate - complaint_rate).max(0.0),
        }
    }
}

/// The shares of `Rates`, in percent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub on_time_percent: f64,
    pub online_submission_percent: f64,
    pub online_payment_percent: f64,
    pub digitized_percent: f64,
    pub reuse_percent: f64,
    pub electronic_result_percent: f64,
    pub signed_and_sealed_percent: f64,
    pub satisfaction_percent: f64,
}

/// `numerator / denominator` in percent; 0 when the denominator is 0.
pub fn percent(numerator: i64, denominator: i64) -> f64 {
    if denominator <= 0 { 0.0 } else { numerator as f64 * 100.0 / denominator as f64 }
}

/// The processing time at quantile `q` (0 to 1), estimated from the histogram by linear interpolation
/// inside the bucket it falls in; the open bucket answers its lower bound. `None` when empty.
pub fn quantile_seconds(histogram: &[i64; HISTOGRAM_BUCKETS], q: f64) -> Option<i64> {
    let total: i64 = histogram.iter().sum();
    if total <= 0 {
        return None;
    }
    let rank = (q * total as f64).ceil().max(1.0) as i64;
    let mut seen = 0;
    for (index, count) in histogram.iter().enumerate() {
        if *count > 0 && seen + count >= rank {
            let lower = if index == 0 { 0 } else { HISTOGRAM_BOUNDS_SECONDS[index - 1] };
            let Some(upper) = HISTOGRAM_BOUNDS_SECONDS.get(index) else { return Some(lower) };
            let within = (rank - seen) as f64 / *count as f64;
            return Some(lower + ((upper - lower) as f64 * within).round() as i64);
        }
        seen += count;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processing_times_fall_in_the_bucket_whose_bound_is_at_or_above_them() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(4 * 3600), 0);
        assert_eq!(bucket_of(4 * 3600 + 1), 1);
        assert_eq!(bucket_of(91 * 86_400), HISTOGRAM_BUCKETS - 1);
        assert_eq!(bucket_metric(3), "processing_time_bucket_03");
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let mut histogram = [0; HISTOGRAM_BUCKETS];
        histogram[1] = 10; // 10 dossiers between 4 h and 1 day
        assert_eq!(quantile_seconds(&histogram, 0.5), Some(4 * 3600 + (20 * 3600) / 2));
        assert_eq!(quantile_seconds(&histogram, 1.0), Some(86_400));
        assert_eq!(quantile_seconds(&[0; HISTOGRAM_BUCKETS], 0.5), None);
    }

    #[test]
    fn satisfaction_is_one_hundred_less_the_overdue_and_complaint_rates() {
        let mut totals = Totals::default();
        totals.flows.insert(metric::RECEIVED.into(), 10);
        totals.flows.insert(metric::RESOLVED_ON_TIME.into(), 6);
        totals.flows.insert(metric::RESOLVED_LATE.into(), 2);
        totals.flows.insert(metric::COMPLAINED_OR_DISSATISFIED_DOSSIERS.into(), 1);
        totals.in_processing_now = 2;
        totals.overdue_now = 1;
        let rates = totals.rates();
        assert_eq!(rates.on_time_percent, 75.0);
        // overdue (2 + 1) / (8 + 2) = 30 %, complaints 1 / 10 = 10 %.
        assert!((rates.satisfaction_percent - 60.0).abs() < 1e-9);
        assert_eq!(percent(1, 0), 0.0);
    }
}
