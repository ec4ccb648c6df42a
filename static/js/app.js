// The browser client's entry module, loaded on every page: it shows times
// in the reader's time zone and, on a room page, starts the room client.

import { localTimes } from './util.js';
import { startRoom } from './room.js';

function main() {
  localTimes(document);
  if (document.body.dataset.page === 'room') {
    const section = document.getElementById('room');
    if (section) startRoom(section);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
