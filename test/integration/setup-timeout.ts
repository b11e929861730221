// Real servers: a restore of a few thousand versions takes seconds, not milliseconds.
jest.setTimeout(180_000);
