//! Example providers built with mapisync: see the `examples` targets.
