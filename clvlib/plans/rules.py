"""Every rule a line of pay can name, and how its amount is computed (for statements and the docs)."""

RULES = {
    "commission.flat": "basis (document's revenue or margin) x rate x weight x credit share",
    "commission.marginal": "basis (the part of the rep's credited amount inside the band) x band rate x weight",
    "commission.whole": "basis (document's figure) x the rate of the band the month's total reaches x weight x share",
    "commission.accelerator": "basis (the month's commission of the component) x (multiplier - 1)",
    "commission.holdback": "-(share held) x basis (the month's commission after accelerators and caps)",
    "commission.release": "the amount held `months` earlier (source_id: the month it was held)",
    "clv_growth.existing": "basis (change of share x CLV) x rate x tier weight x weight",
    "clv_growth.new": "basis (share x CLV of a customer won in the month) x rate x tier weight x weight",
    "clv_growth.lost": "basis (-share x CLV of a customer lost in the month) x rate x tier weight x weight",
    "clv_growth.transferred": "basis (CLV handed over, in or out) x rate x tier weight x weight",
    "retention.retained": "basis (amount per customer of the tier) x rate factor x weight x book share",
    "clawback.lost_customer": "-(basis: fixed amount, or commission paid on the customer since the win) x share",
    "clawback.forgiven": "the part of the month's clawbacks above the month's positive pay (floor_zero)",
    "clawback.deferred": "the part of the month's clawbacks above the month's positive pay, carried (carry_forward)",
    "clawback.recovered": "-(the carried balance, up to the month's positive pay)",
    "team_pool.clv_growth": "basis (team's CLV growth) x pool share x weight x member's split share",
    "team_pool.gross_margin": "basis (team's gross margin) x pool share x weight x member's split share",
    "spif.won": "basis (amount per customer won) x credit share",
    "spif.retained": "basis (amount per customer retained) x book share",
    "spif.revenue": "basis (collected revenue) x rate x credit share",
    "spif.gross_margin": "basis (collected gross margin) x rate x credit share",
    "cap.withheld": "cap - basis (the month's total before the cap), when the total is above the cap",
    "floor.top_up": "floor (x share of the month employed) - basis (the month's total), when below",
    "floor.carried": "as floor.top_up, but carried as a balance recovered from later pay (caps.carry)",
    "floor.recovered": "-(the carried balance, up to the month's pay above the floor)",
    "guarantee.top_up": "share x basis (today's plan's month pay) - this plan's month pay, when short",
    "guarantee.draw": "as top_up, but an advance recovered later",
    "guarantee.recovery": "-(draw balance, up to this plan's month pay above the guarantee; after it: any pay)",
}

#: rules in text order: the tie-break of lines of one rep-month, step and component
RULE_KEY = {rule: k for k, rule in enumerate(sorted(RULES))}
