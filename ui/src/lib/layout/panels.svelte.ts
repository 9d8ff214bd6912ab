// What is open around the main view: the queue panel (beside it, where the track
// details also go; one at a time) and the keyboard shortcut list.

export class Panels {
  queueOpen = $state(false);
  helpOpen = $state(false);
}
