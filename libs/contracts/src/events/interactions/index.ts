export * from './interaction-snapshot';
export * from './interaction-versions';
export * from './interaction.events';
