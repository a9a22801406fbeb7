"""Event-loop machinery with no marketplace words: named random streams and samplers, the
clock's exact waits and rounds, service stations and their monitors, a due-queue, the business
calendar, typed-array columns and opt-in process tuning. Everything above builds on it; it
imports nothing of simcore's."""
