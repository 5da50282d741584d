export * from './interaction-snapshot';
export * from './interaction.events';
