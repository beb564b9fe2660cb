//! The *order* stage: rebuild one plausible global order of all traces' socket events by
//! replaying them against the model, without trusting clocks.
