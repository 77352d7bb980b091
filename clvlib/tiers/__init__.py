"""Customer tiers: who is A, B or C, kept stable from month to month.

* ``features`` — ``tier_features`` (the five features of one month's customers) and ``rfm_scores``;
* ``estimator`` — ``CustomerTiers`` (scikit-learn habits: KMeans or a Gaussian mixture on transformed,
  scaled features, or value-share rules; JSON in and out, never pickle);
* ``space`` — the transformed, scaled feature space computed from stored numbers (numpy);
* ``hysteresis`` — the rules that keep a customer in its tier until it clearly crosses a boundary;
* ``assign`` — ``assign_tiers`` over a window of months, honouring the refit policy;
* ``migration`` — ``migration_matrix``, ``share_changed``, ``population_stability_index``,
  ``tier_profile``.

``DEFINITIONS`` holds, as plain English sentences, the definitions a report must print (to be
translated by the report's catalogue); ``{placeholders}`` are filled with ``str.format`` from the
settings (e.g. ``DEFINITIONS["value_share"].format(a=70, b=20, c=10)``).
"""
from clvlib.tiers.assign import REFIT, Assignment, assign_tiers, params_for_estimator
from clvlib.tiers.estimator import JSON_FORMAT, CustomerTiers
from clvlib.tiers.features import FEATURES, rfm_scores, signed_log1p, tier_features
from clvlib.tiers.migration import (GONE, NEW, PSI_EPSILON, last_12_months, migration_matrix, migration_table,
                                    movers, population_stability_index, share_changed, tier_counts, tier_profile)

__all__ = ["CustomerTiers", "tier_features", "rfm_scores", "signed_log1p", "assign_tiers", "Assignment",
           "params_for_estimator", "migration_matrix", "share_changed", "population_stability_index",
           "tier_profile", "last_12_months", "tier_counts", "migration_table", "movers", "FEATURES", "REFIT", "JSON_FORMAT", "PSI_EPSILON", "NEW", "GONE",
           "DEFINITIONS"]

DEFINITIONS = {
    "features": (
        "Customers are tiered on five figures at each month end: CLV (expected gross margin over the "
        "horizon), the probability the customer is still active, the number of repeat purchases, the "
        "average margin per repeat purchase, and the months since the first invoice."),
    "kmeans": (
        "Tiers are clusters (k-means) of customers with similar figures. The skewed figures are put on a "
        "log scale first and every figure is scaled to a common unit; the clusters are then ranked by "
        "their average CLV and named {labels}, most valuable first."),
    "gmm": (
        "Tiers are groups of a Gaussian mixture model fitted to the customers' figures (on a log scale, "
        "scaled to a common unit); each customer belongs to its most probable group, and the groups are "
        "ranked by their average CLV and named {labels}, most valuable first."),
    "value_share": (
        "Tiers by share of value: customers are ranked by CLV; tier {first} is the smallest group of top "
        "customers that together hold {first_share}% of the total CLV, the next tier takes them up to "
        "{second_share}%, and so on; customers worth nothing or less are in the last tier."),
    "value_share_defaults": (
        "Default shares: A holds 70% of the CLV, B the next 20%, C the last 10%."),
    "rfm": (
        "RFM scores rank customers by quarters, 1 (lowest quarter) to 4 (highest): R by how recently they "
        "bought, F by how many repeat purchases they made, M by their margin per purchase. Customers with "
        "equal values get the same score."),
    "stable_model": (
        "The tier model is kept from month to month and refitted only {refit}: customers are placed by "
        "the same boundaries every month, so a tier means the same thing over time."),
    "hysteresis_kmeans": (
        "A customer changes tier only when it is clearly past the boundary between its old tier and the "
        "new one: by more than {hysteresis} in the scaled units of the figures (the distance past the "
        "line halfway between the two cluster centres)."),
    "hysteresis_gmm": (
        "A customer changes tier only when the new tier is more probable than its old tier by more than "
        "{hysteresis} (probability)."),
    "hysteresis_value_share": (
        "A customer changes tier only when its CLV is past the tier's cut by more than {percent}% of the "
        "cut: above the cut x (1 + {hysteresis}) to move up, below the cut x (1 - {hysteresis}) to move down."),
    "new_customers": "Customers new this month get the tier the model gives them, without this margin.",
    "fallback": (
        "With too little data for the clustering models (few customers or repeat customers, a cluster "
        "with almost no customers, or a CLV computed by the simple formula), tiers use the share-of-value "
        "rules instead."),
    "migration": (
        "The migration table counts customers by their tier then (rows) and now (columns); 'new' are "
        "customers without a tier then, 'gone' customers without a tier now."),
    "share_changed": "Share changed: of the customers tiered in both months, the share whose tier changed.",
    "psi": (
        "Population stability index of the tier shares: PSI = sum over tiers of (q - p) x ln(q / p), with p "
        "and q the share of customers in the tier then and now (an empty tier counts as 0.01%). Below 0.1 "
        "the tier mix is stable, 0.1 to 0.25 it shifted moderately, above 0.25 it shifted a lot "
        "(Siddiqi 2006; Yurdakul 2018)."),
    "silhouette": (
        "Silhouette: how well separated the tiers are, from -1 to 1 (for each customer, how much closer it "
        "is to its own tier than to the nearest other tier, averaged; computed on a fixed random sample "
        "of up to {sample} customers). Around 0.5 or more is a clear structure, near 0 tiers overlap."),
    "profile": (
        "Tier profile: customers, share of total CLV, share of the gross margin of the last 12 months, "
        "average CLV, and repurchase rate (of the customers who bought in the last 12 months, the share "
        "who bought on two or more different days)."),
}
