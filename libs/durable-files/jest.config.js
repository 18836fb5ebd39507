module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'durable-files',
};
